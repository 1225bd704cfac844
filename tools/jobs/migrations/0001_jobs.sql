-- The job system's source of truth (plugin `jobs`, schema plugin_jobs). BullMQ only carries job
-- ids to workers; every state a job is in, and how it got there, lives here.

create table {{schema}}.jobs (
  id               uuid primary key,
  -- Submission order: the list cursor and the FIFO tie-break between equal priorities.
  seq              bigint generated always as identity unique,
  project          text not null,
  recipe           text not null,
  params           jsonb not null default '{}'::jsonb,
  -- {gpus, gpuType?, minVramGb?, cpus, memoryGb}, normalized by the store (see resources.ts).
  resources        jsonb not null,
  -- `gpu-<type>`, `gpu-any` or `cpu` (BullMQ queue names cannot hold ':'): the queue the job is dispatched on.
  resource_class   text not null,
  -- Higher runs first.
  priority         integer not null default 0,
  state            text not null default 'queued'
                   check (state in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  -- The attempt this job is on (or will start next), from 1; a retry or requeue adds one.
  attempt          integer not null default 1 check (attempt >= 1),
  max_attempts     integer not null default 3 check (max_attempts >= 1),
  idempotency_key  text,
  -- Jobs of the same project that must succeed before this one runs (sorted, no duplicates).
  depends_on       uuid[] not null default '{}',
  -- The worker running the attempt (kept after it ends: who ran it last).
  worker           text,
  checkpoint       jsonb,
  result           jsonb,
  error            jsonb,
  -- Set on a running job by a cancel; the worker stops the recipe and moves it to cancelled.
  cancel_requested boolean not null default false,
  -- Highest log seq handed out; appends take their seq numbers from here under the row lock.
  log_seq          bigint not null default 0,
  created_at       timestamptz not null default now(),
  queued_at        timestamptz not null default now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz not null default now(),
  check (attempt <= max_attempts),
  -- Nulls are distinct: jobs without a key never collide.
  unique (project, idempotency_key)
);
-- jobs_list: a project's jobs newest first, keyset-paginated on seq.
create index jobs_project_seq_idx on {{schema}}.jobs (project, seq desc);
-- Dispatch and jobs_explain: queued jobs of a class by priority, then submission order.
create index jobs_queued_idx on {{schema}}.jobs (resource_class, priority desc, seq) where state = 'queued';
-- A worker's running jobs (lease expiry, quotas).
create index jobs_running_worker_idx on {{schema}}.jobs (worker) where state = 'running';
-- Queued jobs waiting on a given job (run B once A succeeds, fail B when A fails).
create index jobs_waiting_on_idx on {{schema}}.jobs using gin (depends_on) where state = 'queued' and depends_on <> '{}';

-- One row per state change (from_state null: the submission), written in the same transaction.
-- A cancel request on a running job is recorded as running -> running.
create table {{schema}}.job_events (
  id          bigserial primary key,
  job_id      uuid not null references {{schema}}.jobs (id) on delete cascade,
  at          timestamptz not null default now(),
  from_state  text,
  to_state    text not null,
  reason      text not null,
  details     jsonb not null default '{}'::jsonb
);
create index job_events_job_idx on {{schema}}.job_events (job_id, id);

create table {{schema}}.job_logs (
  job_id   uuid not null references {{schema}}.jobs (id) on delete cascade,
  -- 1, 2, 3, … per job, without gaps.
  seq      bigint not null,
  at       timestamptz not null default now(),
  level    text not null check (level in ('debug', 'info', 'warn', 'error')),
  message  text not null,
  primary key (job_id, seq)
);

create table {{schema}}.job_metrics (
  job_id  uuid not null references {{schema}}.jobs (id) on delete cascade,
  step    bigint not null,
  name    text not null,
  -- NaN and ±Infinity are kept as reported: a NaN loss is something to see, not to drop.
  value   double precision not null,
  at      timestamptz not null default now(),
  primary key (job_id, name, step)
);

create table {{schema}}.artifacts (
  id            uuid primary key,
  job_id        uuid not null references {{schema}}.jobs (id) on delete cascade,
  name          text not null,
  sha256        text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  size          bigint not null check (size >= 0),
  media_type    text not null,
  -- Content-addressed location under the artifact root (several rows may share one blob).
  storage_path  text not null,
  created_at    timestamptz not null default now(),
  unique (job_id, name)
);
create index artifacts_sha256_idx on {{schema}}.artifacts (sha256);

create table {{schema}}.workers (
  id                text primary key,
  name              text not null,
  capabilities      jsonb not null default '{}'::jsonb,
  -- The queues it consumes: `cpu`, `gpu-any`, `gpu-<type>`.
  resource_classes  text[] not null default '{}',
  state             text not null default 'active' check (state in ('active', 'lost', 'gone')),
  registered_at     timestamptz not null default now(),
  last_heartbeat    timestamptz not null default now(),
  lease_expires_at  timestamptz not null,
  telemetry         jsonb
);
-- The lease sweep: active workers past their lease.
create index workers_lease_idx on {{schema}}.workers (lease_expires_at) where state = 'active';
