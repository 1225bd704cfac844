-- Deployments (plugin `deployments`, schema plugin_deployments): which registry model versions serve
-- a named endpoint and with what weights, the rollout (canary) and shadow in progress, every change
-- in history; the prediction log, and feedback joined to it.

create table {{schema}}.deployments (
  project     text not null,
  name        text not null,
  model       text not null,
  -- The alias the deployment was created from (null: a fixed version), and whether it follows it.
  alias       text,
  follow_alias boolean not null default false,
  -- [{name: 'v3', version: 3, weight: 100}, …]; weights sum to 100.
  variants    jsonb not null,
  -- {maxBatchSize, maxQueueDelayMicros, maxQueueSize, timeoutMs, enabled}
  batching    jsonb not null,
  -- {sample, inputs, retentionDays}
  logging     jsonb not null,
  -- Abstain below this top probability; null: the model version's own threshold.
  threshold   double precision check (threshold is null or (threshold >= 0 and threshold <= 1)),
  -- The canary in progress or last run (null: none).
  rollout     jsonb,
  -- {variant, version, percent} (null: no shadow).
  shadow      jsonb,
  -- Bumped on every change; servers re-read a deployment whose generation moved.
  generation  integer not null default 1,
  created_at  timestamptz not null default now(),
  created_by  text not null,
  updated_at  timestamptz not null default now(),
  primary key (project, name)
);

create table {{schema}}.deployment_history (
  id          bigserial primary key,
  project     text not null,
  name        text not null,
  at          timestamptz not null default now(),
  by          text not null,
  -- created, traffic, threshold, canary_started, canary_step, canary_paused, canary_rolled_back, promoted, rolled_back, shadow, …
  action      text not null,
  detail      jsonb not null default '{}'::jsonb,
  foreign key (project, name) references {{schema}}.deployments (project, name) on delete cascade
);
create index deployment_history_idx on {{schema}}.deployment_history (project, name, id desc);

-- One row per served input (or a sampled share), written in batches off the request path.
create table {{schema}}.predictions (
  project        text not null,
  request_id     text not null,
  -- A shadow row mirrors the primary row with the same request_id.
  shadow         boolean not null default false,
  deployment     text not null,
  variant        text not null,
  model_version  integer not null,
  at             timestamptz not null,
  latency_ms     real not null,
  batch_size     integer not null,
  label          text,
  top_label      text,
  probability    real,
  abstained      boolean not null default false,
  threshold      real,
  error          text,
  -- The input, only when the deployment opts in (logging.inputs).
  input          jsonb,
  primary key (project, request_id, shadow)
);
create index predictions_deployment_at_idx on {{schema}}.predictions (project, deployment, at);
create index predictions_at_idx on {{schema}}.predictions (at);

-- A late label (or reward) for a logged prediction; one per request id.
create table {{schema}}.feedback (
  project        text not null,
  request_id     text not null,
  deployment     text not null,
  variant        text not null,
  model_version  integer not null,
  label          text,
  reward         double precision,
  -- The label the deployment answered (null: abstained), copied from the prediction.
  predicted      text,
  correct        boolean,
  input          jsonb,
  by             text not null,
  at             timestamptz not null default now(),
  primary key (project, request_id)
);
create index feedback_deployment_idx on {{schema}}.feedback (project, deployment, at);
