-- Admits a project's held jobs into BullMQ, in dispatch order (priority, then submission), as far
-- as its quota allows. Runs under the project's admission lock (admit-lock.sql) in one transaction,
-- so concurrent admissions of one project cannot both take the last slot. A job waits while a
-- dependency has not succeeded and until its retry backoff passes. Strict order: a job that does not
-- fit blocks the ones behind it, so large jobs are not starved by small ones.
-- $1 project, $2 max concurrent jobs (null: unlimited), $3 max GPUs (null: unlimited), $4 batch size
with active as (
  select count(*)::bigint as jobs, coalesce(sum((resources->>'gpus')::bigint), 0)::bigint as gpus
  from {{schema}}.jobs
  where project = $1::text and (state = 'running' or (state = 'queued' and dispatched_at is not null))
), held as (
  select j.id, j.priority, j.seq, (j.resources->>'gpus')::bigint as gpus
  from {{schema}}.jobs j
  where j.project = $1::text and j.state = 'queued' and j.dispatched_at is null
    and (j.not_before is null or j.not_before <= now())
    and not exists (
      select 1 from unnest(j.depends_on) as d(id)
      left join {{schema}}.jobs dj on dj.id = d.id
      where dj.state is distinct from 'succeeded'
    )
  order by j.priority desc, j.seq
  limit $4::int
), ranked as (
  select id, row_number() over w as n, sum(gpus) over w as gpus_through
  from held
  window w as (order by priority desc, seq rows between unbounded preceding and current row)
), admitted as (
  select r.id from ranked r, active a
  where ($2::int is null or a.jobs + r.n <= $2::int)
    and ($3::int is null or a.gpus + r.gpus_through <= $3::int)
)
update {{schema}}.jobs j
set dispatched_at = now(), dispatch_seq = j.dispatch_seq + 1, not_before = null, updated_at = now()
from admitted
where j.id = admitted.id and j.state = 'queued' and j.dispatched_at is null
returning j.id, j.project, j.resource_class, j.priority, j.dispatch_seq, j.resources
