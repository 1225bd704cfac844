-- A project's jobs holding quota: count and GPUs. $1 project
select count(*)::bigint as jobs, coalesce(sum((resources->>'gpus')::bigint), 0)::bigint as gpus
from {{schema}}.jobs where project = $1::text and (state = 'running' or (state = 'queued' and dispatched_at is not null))
