-- A worker's running jobs that it has been asked to stop (cancel wins over preemption). $1 worker id
select id, case when cancel_requested then 'cancelled' else 'preempted' end as why
from {{schema}}.jobs
where worker = $1::text and state = 'running' and (cancel_requested or preempt_requested)
