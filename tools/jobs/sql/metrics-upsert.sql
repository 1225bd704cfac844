-- Records metric points; a point sent again (same name and step) replaces the earlier one, so a
-- retried batch changes nothing. The batch holds each (name, step) once.
-- $1 id, $2 steps, $3 names, $4 values, $5 times (null elements: now)
-- Committed asynchronously, as logs-append.sql explains.
insert into {{schema}}.job_metrics (job_id, step, name, value, at)
select $1::uuid, p.step, p.name, p.value, coalesce(p.at, now())
from unnest($2::bigint[], $3::text[], $4::float8[], $5::timestamptz[]) as p(step, name, value, at),
  set_config('synchronous_commit', 'off', true)
on conflict (job_id, name, step) do update set value = excluded.value, at = excluded.at
