-- Records that a job or model used a dataset version (the same link twice is a no-op).
-- $1 dataset version id, $2 kind, $3 job id, $4 model name, $5 model version
insert into {{schema}}.dataset_lineage (dataset_version_id, kind, job_id, model_name, model_version)
values ($1::uuid, $2::text, $3::uuid, $4::text, $5::text)
on conflict do nothing
