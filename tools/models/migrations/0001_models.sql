-- The model registry (plugin `models`, schema plugin_models): named models per project, their
-- numbered versions with lineage and a model card, and aliases (champion, challenger, …) that point
-- at versions, with the history of every alias change.

create table {{schema}}.models (
  project      text not null,
  name         text not null,
  description  text,
  created      timestamptz not null default now(),
  -- Who registered the first version.
  created_by   text not null,
  primary key (project, name)
);

create table {{schema}}.model_versions (
  project     text not null,
  name        text not null,
  -- 1, 2, 3, … per model, without gaps: taken under the model row's lock at registration.
  version     integer not null check (version >= 1),
  task        text not null check (task in ('text-classification', 'tabular-classification')),
  -- The recipe (training code path) that produced the model.
  recipe      text not null,
  metrics     jsonb not null default '{}'::jsonb,
  -- {inputs, outputs, labels, threshold?}
  signature   jsonb not null,
  -- {dataset: {name, version, sha256}, jobId, codeVersion, params}
  lineage     jsonb not null,
  -- [{name, sha256, size, mediaType}]
  artifacts   jsonb not null default '[]'::jsonb,
  -- The model card (Markdown), generated from the record at registration.
  card_md     text not null,
  created_at  timestamptz not null default now(),
  created_by  text not null,
  status      text not null default 'ready' check (status in ('ready')),
  primary key (project, name, version),
  foreign key (project, name) references {{schema}}.models (project, name) on delete cascade
);
-- Registration is idempotent per training job: one version per (project, name, job).
create unique index model_versions_job_idx on {{schema}}.model_versions (project, name, (lineage ->> 'jobId'))
  where lineage ->> 'jobId' is not null;

create table {{schema}}.model_aliases (
  project  text not null,
  name     text not null,
  alias    text not null check (alias ~ '^[a-z][a-z0-9_-]{0,39}$'),
  version  integer not null,
  set_at   timestamptz not null default now(),
  set_by   text not null,
  primary key (project, name, alias),
  foreign key (project, name, version) references {{schema}}.model_versions (project, name, version) on delete cascade
);
create index model_aliases_version_idx on {{schema}}.model_aliases (project, name, version);

-- One row per alias change: set (from null), move (from one version to another), clear (to null).
create table {{schema}}.model_alias_history (
  id            bigserial primary key,
  project       text not null,
  name          text not null,
  alias         text not null,
  action        text not null check (action in ('set', 'move', 'clear')),
  from_version  integer,
  to_version    integer,
  by            text not null,
  at            timestamptz not null default now(),
  reason        text,
  check ((action = 'set' and from_version is null and to_version is not null)
      or (action = 'move' and from_version is not null and to_version is not null and from_version <> to_version)
      or (action = 'clear' and from_version is not null and to_version is null)),
  foreign key (project, name) references {{schema}}.models (project, name) on delete cascade
);
create index model_alias_history_model_idx on {{schema}}.model_alias_history (project, name, id desc);
