-- Flags a running job of a class for preemption, on one of the workers $4 (those that could run the
-- waiting job), with a running -> running event. A victim is either a job of the waiting job's own
-- project with a lower priority, or a job of a project whose priority class (quotas.priority_class,
-- else the default class $7) ranks below the waiting project's ($6: the names of those classes).
-- Never a job of another project of the same or a higher class, whatever its priority.
-- The project's own jobs go first (lowest priority, most recently started among equals).
-- $1 class, $2 priority, $3 reason, $4 worker ids, $5 the waiting job's project,
-- $6 classes ranked below it, $7 the default class (null: none)
with victim as (
  select j.id from {{schema}}.jobs j
  left join {{schema}}.quotas q on q.project = j.project
  where j.state = 'running' and j.resource_class = $1::text and not j.preempt_requested and not j.cancel_requested
    and j.worker = any($4::text[])
    and (
      (j.project = $5::text and j.priority < $2::int)
      or (j.project <> $5::text and coalesce(q.priority_class, $7::text) = any($6::text[]))
    )
  order by j.project <> $5::text, j.priority, j.started_at desc
  limit 1
  for no key update of j skip locked
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
