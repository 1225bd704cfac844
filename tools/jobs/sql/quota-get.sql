-- A project's quota override (no row: the server defaults). $1 project
select max_concurrent_jobs, max_gpus, updated_at, updated_by from {{schema}}.quotas where project = $1::text
