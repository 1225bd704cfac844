-- Training runs (plugin `training`, schema plugin_training): what each job started by
-- training_start was for, so the success hook can register the model it produced. One row per job;
-- starting again with the same idempotency key reuses the job and leaves its row as it was.

create table {{schema}}.training_runs (
  job_id              uuid primary key,
  project             text not null,
  -- The registry model name the job's model is registered under.
  model_name          text not null,
  -- The dataset version trained on (plugin_datasets.dataset_versions.id; no foreign key across plugins).
  dataset_version_id  uuid not null,
  dataset_name        text not null,
  dataset_version     integer not null check (dataset_version >= 1),
  dataset_sha256      text not null check (dataset_sha256 ~ '^[0-9a-f]{64}$'),
  recipe              text not null,
  -- The training params the caller gave (without `dataset`, which training_start fills in).
  params              jsonb not null default '{}'::jsonb,
  created_at          timestamptz not null default now(),
  -- Principal id of who started it; the registered model version is created by them.
  created_by          text not null
);
create index training_runs_project_model_idx on {{schema}}.training_runs (project, model_name, created_at desc);
