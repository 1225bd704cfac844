-- A project's operator settings (no row: the server defaults). $1 project
select max_concurrent_jobs, max_gpus, max_priority, priority_class, updated_at, updated_by from {{schema}}.quotas where project = $1::text
