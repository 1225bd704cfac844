-- Records what a training job is for; a job already recorded keeps its row.
-- $1 job id, $2 project, $3 model name, $4 dataset version id, $5 dataset name, $6 dataset version,
-- $7 dataset sha256, $8 recipe, $9 params (json), $10 created by
insert into {{schema}}.training_runs
  (job_id, project, model_name, dataset_version_id, dataset_name, dataset_version, dataset_sha256, recipe, params, created_by)
values ($1::uuid, $2::text, $3::text, $4::uuid, $5::text, $6::integer, $7::text, $8::text, $9::jsonb, $10::text)
on conflict (job_id) do nothing
