-- Asks the worker running a job to stop it; recorded as a running -> running event. Runs in the
-- transaction that locked the row (lock-job.sql). $1 id, $2 reason
with flagged as (
  update {{schema}}.jobs set cancel_requested = true, updated_at = now()
  where id = $1::uuid and state = 'running' and not cancel_requested
  returning *
), event as (
  insert into {{schema}}.job_events (job_id, from_state, to_state, reason, details)
  select id, state, state, $2::text, jsonb_strip_nulls(jsonb_build_object('worker', worker, 'attempt', attempt))
  from flagged
)
select * from flagged
