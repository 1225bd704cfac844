-- Moves one job to another state and records the event. Runs inside the transaction that locked
-- the row (lock-job.sql) and checked its state, so it always matches; the state condition stays as
-- a guard. (Locking and updating in one statement instead can deadlock under contention: the
-- update re-locks an older row version that waiters have queued on.)
-- $1 id, $2 the state it is in (locked), $3 to, $4 worker (running: the claimer; queued: cleared;
-- elsewhere null keeps it), $5 checkpoint, $6 result, $7 error (null: keep), $8 attempts to add,
-- $9 reason, $10 event details, $11 not before (ms from now; queued only, null: at once)
with moved as (
  update {{schema}}.jobs j set
    state       = $3::text,
    attempt     = j.attempt + $8::int,
    worker      = case when $3::text = 'queued' then null else coalesce($4::text, j.worker) end,
    checkpoint  = coalesce($5::jsonb, j.checkpoint),
    result      = coalesce($6::jsonb, j.result),
    error       = coalesce($7::jsonb, j.error),
    queued_at   = case when $3::text = 'queued' then now() else j.queued_at end,
    -- Back in the queue: held until admitted (and not before the backoff) again.
    dispatched_at = case when $3::text = 'queued' then null else j.dispatched_at end,
    not_before  = case when $3::text = 'queued' and $11::float8 is not null then now() + make_interval(secs => $11::float8 / 1000) else null end,
    preempt_requested = false,
    started_at  = case when $3::text = 'running' then now() when $3::text = 'queued' then null else j.started_at end,
    finished_at = case when $3::text in ('succeeded', 'failed', 'cancelled') then now() else null end,
    updated_at  = now()
  where j.id = $1::uuid and j.state = $2::text
  returning j.*
), event as (
  insert into {{schema}}.job_events (job_id, from_state, to_state, reason, details)
  select id, $2::text, state, $9::text,
         $10::jsonb || jsonb_strip_nulls(jsonb_build_object('worker', worker, 'attempt', attempt))
  from moved
)
select * from moved
