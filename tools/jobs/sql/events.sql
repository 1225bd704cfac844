-- A job's events in order. $1 id, $2 project
select e.id, e.at, e.from_state, e.to_state, e.reason, e.details
from {{schema}}.job_events e
join {{schema}}.jobs j on j.id = e.job_id and j.project = $2::text
where e.job_id = $1::uuid
order by e.id
