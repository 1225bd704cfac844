-- Flags the lowest-priority running job of a class (the most recently started among equals) below
-- priority $2, on one of the workers $4 (those that could run the waiting job), for preemption, with
-- a running -> running event. $1 class, $2 priority, $3 reason, $4 worker ids
with victim as (
  select id from {{schema}}.jobs
  where state = 'running' and resource_class = $1::text and priority < $2::int and not preempt_requested and not cancel_requested
    and worker = any($4::text[])
  order by priority, started_at desc
  limit 1
  for no key update skip locked
), flagged as (
  update {{schema}}.jobs j set preempt_requested = true, updated_at = now()
  from victim where j.id = victim.id
  returning j.id, j.worker, j.attempt, j.project, j.state
), event as (
  insert into {{schema}}.job_events (job_id, from_state, to_state, reason, details)
  select id, state, state, $3::text, jsonb_strip_nulls(jsonb_build_object('worker', worker, 'attempt', attempt, 'preempt', true))
  from flagged
)
select id, worker, project from flagged
