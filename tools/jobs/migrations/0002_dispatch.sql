-- Dispatch bookkeeping: which queued jobs have been handed to BullMQ (quota admission), retry
-- backoff, preemption requests, per-project quotas, content-addressed blobs, worker slots.

alter table {{schema}}.jobs
  -- Bumped at each hand-off to BullMQ; the BullMQ job id is `<id>-<dispatch_seq>`, so a requeued job
  -- is a new BullMQ job while re-adding the same dispatch stays a no-op.
  add column dispatch_seq integer not null default 0,
  -- Set while a queued job sits in BullMQ (it counts against the project's quota); null while it is
  -- held back (dependencies, quota, backoff). Cleared when the job is requeued.
  add column dispatched_at timestamptz,
  -- Retry backoff: not dispatched before this time.
  add column not_before timestamptz,
  -- The control plane asked the worker to checkpoint and give the slot to a higher-priority job.
  add column preempt_requested boolean not null default false,
  -- Wall-clock limit of one attempt.
  add column timeout_ms integer not null default 86400000 check (timeout_ms > 0);

-- Admission: a project's held jobs in dispatch order.
create index jobs_held_idx on {{schema}}.jobs (project, priority desc, seq) where state = 'queued' and dispatched_at is null;
-- Quota: a project's jobs that hold a slot (running, or queued in BullMQ).
create index jobs_active_idx on {{schema}}.jobs (project) where state = 'running' or (state = 'queued' and dispatched_at is not null);

create table {{schema}}.quotas (
  project              text primary key,
  -- null: the server's default (jobs.maxConcurrentJobs / jobs.maxGpus in the config).
  max_concurrent_jobs  integer check (max_concurrent_jobs >= 1),
  max_gpus             integer check (max_gpus >= 0),
  updated_at           timestamptz not null default now(),
  updated_by           text not null
);

alter table {{schema}}.workers
  add column slots integer not null default 1 check (slots >= 1),
  -- Recipe names this worker can run.
  add column recipes text[] not null default '{}';

-- Checkpoint files and artifacts, by content. Several artifacts (and checkpoints) may share one blob.
create table {{schema}}.blobs (
  sha256        text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
  size          bigint not null check (size >= 0),
  storage_path  text not null,
  created_at    timestamptz not null default now()
);
