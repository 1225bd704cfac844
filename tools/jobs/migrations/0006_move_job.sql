-- One round trip per state change: lock the job, check it (state, and for fencing its worker and
-- attempt), update it and write its event, in one call. The statements are the ones the store ran
-- one by one before (lock-job.sql, then the update with its event): locking first, then updating in
-- a second statement, which a single locking update statement cannot do without deadlocks.
-- Zero rows: no such job (in p_project, when given). Otherwise one row: moved, the state, worker and
-- attempt it is in now, the job as JSON when moved, and when it ended, the queued jobs waiting on it.
create function {{schema}}.move_job(
  p_id uuid, p_from text[], p_to text, p_worker text, p_checkpoint jsonb, p_result jsonb, p_error jsonb,
  p_attempt_delta int, p_reason text, p_details jsonb, p_not_before_ms float8,
  p_expect_worker text, p_expect_attempt int, p_project text
) returns table (moved boolean, now_state text, now_worker text, now_attempt int, job jsonb, dependents uuid[])
language plpgsql as $$
declare
  found_job record;
  changed {{schema}}.jobs;
begin
  select j.state, j.worker, j.attempt into found_job
  from {{schema}}.jobs j
  where j.id = p_id and (p_project is null or j.project = p_project)
  for no key update;
  if not found then
    return;
  end if;
  if not (found_job.state = any(p_from))
     or (p_expect_worker is not null and found_job.worker is distinct from p_expect_worker)
     or (p_expect_attempt is not null and found_job.attempt <> p_expect_attempt) then
    return query select false, found_job.state::text, found_job.worker::text, found_job.attempt::int, null::jsonb, null::uuid[];
    return;
  end if;
  update {{schema}}.jobs j set
    state       = p_to,
    attempt     = j.attempt + p_attempt_delta,
    worker      = case when p_to = 'queued' then null else coalesce(p_worker, j.worker) end,
    checkpoint  = coalesce(p_checkpoint, j.checkpoint),
    result      = coalesce(p_result, j.result),
    error       = coalesce(p_error, j.error),
    queued_at   = case when p_to = 'queued' then now() else j.queued_at end,
    -- Back in the queue: held until admitted (and not before the backoff) again.
    dispatched_at = case when p_to = 'queued' then null else j.dispatched_at end,
    not_before  = case when p_to = 'queued' and p_not_before_ms is not null then now() + make_interval(secs => p_not_before_ms / 1000) else null end,
    preempt_requested = false,
    started_at  = case when p_to = 'running' then now() when p_to = 'queued' then null else j.started_at end,
    finished_at = case when p_to in ('succeeded', 'failed', 'cancelled') then now() else null end,
    updated_at  = now()
  where j.id = p_id
  returning j.* into changed;
  insert into {{schema}}.job_events (job_id, from_state, to_state, reason, details)
  values (p_id, found_job.state, changed.state, p_reason,
          p_details || jsonb_strip_nulls(jsonb_build_object('worker', changed.worker, 'attempt', changed.attempt)));
  return query select true, changed.state, changed.worker, changed.attempt, to_jsonb(changed),
    case when p_to in ('succeeded', 'failed', 'cancelled') then array(
      select d.id from {{schema}}.jobs d
      where d.state = 'queued' and d.depends_on <> '{}' and d.depends_on @> array[p_id]
      order by d.priority desc, d.seq
    ) else '{}'::uuid[] end;
end
$$;
