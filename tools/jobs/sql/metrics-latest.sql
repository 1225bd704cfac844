-- The newest point of each of a job's metrics (by step). $1 job id
select distinct on (name) name, step, value, at from {{schema}}.job_metrics
where job_id = $1::uuid
order by name, step desc
