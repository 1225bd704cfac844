-- Sets a project's operator settings (quota, priority ceiling, priority class); null fields fall
-- back to the server defaults. $1 project, $2 max concurrent jobs, $3 max GPUs, $4 who,
-- $5 max priority, $6 priority class
insert into {{schema}}.quotas (project, max_concurrent_jobs, max_gpus, updated_at, updated_by, max_priority, priority_class)
values ($1::text, $2::int, $3::int, now(), $4::text, $5::int, $6::text)
on conflict (project) do update set
  max_concurrent_jobs = excluded.max_concurrent_jobs,
  max_gpus = excluded.max_gpus,
  max_priority = excluded.max_priority,
  priority_class = excluded.priority_class,
  updated_at = excluded.updated_at,
  updated_by = excluded.updated_by
returning max_concurrent_jobs, max_gpus, max_priority, priority_class, updated_at, updated_by
