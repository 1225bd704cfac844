-- Sets a project's quota override; null fields fall back to the server defaults.
-- $1 project, $2 max concurrent jobs, $3 max GPUs, $4 who
insert into {{schema}}.quotas (project, max_concurrent_jobs, max_gpus, updated_at, updated_by)
values ($1::text, $2::int, $3::int, now(), $4::text)
on conflict (project) do update set
  max_concurrent_jobs = excluded.max_concurrent_jobs,
  max_gpus = excluded.max_gpus,
  updated_at = excluded.updated_at,
  updated_by = excluded.updated_by
returning max_concurrent_jobs, max_gpus, updated_at, updated_by
