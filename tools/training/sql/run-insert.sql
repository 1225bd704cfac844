-- Reserves a training run under the idempotency key its job will be submitted with, before the
-- submit; the same key again keeps the first row (nothing comes back then: read it with run-by-key).
-- $1 project, $2 run key, $3 model name, $4 dataset version id, $5 dataset name, $6 dataset version,
-- $7 dataset sha256, $8 recipe, $9 params (json), $10 created by
insert into {{schema}}.training_runs
  (project, run_key, model_name, dataset_version_id, dataset_name, dataset_version, dataset_sha256, recipe, params, created_by)
values ($1::text, $2::text, $3::text, $4::uuid, $5::text, $6::integer, $7::text, $8::text, $9::jsonb, $10::text)
on conflict (project, run_key) do nothing
returning *
