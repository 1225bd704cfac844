-- Who holds a job now, for fencing worker reports. $1 id
select state, worker, attempt, project, recipe, cancel_requested, preempt_requested from {{schema}}.jobs where id = $1::uuid
