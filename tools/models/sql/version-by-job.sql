-- The version a training job already registered under a model, if any (idempotent registration).
-- $1 project, $2 name, $3 job id
select version
from {{schema}}.model_versions
where project = $1::text and name = $2::text and lineage ->> 'jobId' = $3::text
