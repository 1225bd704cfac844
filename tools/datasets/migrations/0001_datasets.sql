-- Datasets (plugin `datasets`, schema plugin_datasets): named per project, versioned 1, 2, … per
-- name, each version one normalised JSONL file stored content-addressed in the jobs plugin's blob
-- store (by sha256), plus what the training and evaluation code needs without reading it.

create table {{schema}}.datasets (
  project         text not null,
  name            text not null,
  -- The highest version handed out; an import takes the next one under this row's lock.
  latest_version  integer not null default 0 check (latest_version >= 0),
  created_at      timestamptz not null default now(),
  created_by      text not null,
  updated_at      timestamptz not null default now(),
  primary key (project, name)
);

create table {{schema}}.dataset_versions (
  id                  uuid primary key,
  project             text not null,
  name                text not null,
  version             integer not null check (version >= 1),
  -- SHA-256 of the normalised JSONL: the blob's address.
  sha256              text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes          bigint not null check (size_bytes >= 0),
  -- The source's format; what is stored is always JSONL.
  format              text not null check (format in ('csv', 'jsonl', 'json')),
  row_count           bigint not null check (row_count >= 1),
  -- [{name, type, inferred, empty, distinct, distinctCapped}] in file order (the split column left out).
  columns             jsonb not null,
  text_column         text,
  label_column        text,
  feature_columns     text[] not null default '{}',
  -- {train, validation, test}: rows per split.
  split_counts        jsonb not null,
  -- {train: {label: rows}, validation: {…}, test: {…}}.
  label_distribution  jsonb not null,
  label_count         integer not null default 0 check (label_count >= 0),
  -- 'column': the data named each row's split; 'stratified': by label with seed; 'random': shuffled with seed.
  split_mode          text not null check (split_mode in ('column', 'stratified', 'random')),
  seed                bigint,
  -- Column roles, types and split settings: with sha256, what makes two imports the same version.
  options             jsonb not null,
  source              text not null,
  created_at          timestamptz not null default now(),
  created_by          text not null,
  unique (project, name, version),
  foreign key (project, name) references {{schema}}.datasets (project, name) on delete cascade
);
-- Is a blob still referenced (cleaning up after a failed import)?
create index dataset_versions_sha256_idx on {{schema}}.dataset_versions (sha256);

-- Which jobs and models used which dataset version.
create table {{schema}}.dataset_lineage (
  id                  bigserial primary key,
  dataset_version_id  uuid not null references {{schema}}.dataset_versions (id) on delete cascade,
  kind                text not null check (kind in ('trained', 'evaluated')),
  job_id              uuid,
  model_name          text,
  model_version       text,
  at                  timestamptz not null default now(),
  check (job_id is not null or model_name is not null),
  check ((model_name is null) = (model_version is null))
);
-- Recording the same link twice is a no-op.
create unique index dataset_lineage_unique_idx on {{schema}}.dataset_lineage
  (dataset_version_id, kind, coalesce(job_id::text, ''), coalesce(model_name, ''), coalesce(model_version, ''));
create index dataset_lineage_job_idx on {{schema}}.dataset_lineage (job_id) where job_id is not null;
create index dataset_lineage_model_idx on {{schema}}.dataset_lineage (model_name, model_version) where model_name is not null;
