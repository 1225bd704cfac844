-- Runs of the ops agent: the plan a planner made for a command, its state, and whose call it is
-- (the caller's principal, without secrets: every step runs as them). Keyed by project.
create table {{schema}}.runs (
  id                uuid primary key,
  project           text not null,
  thread_id         text not null,
  command           text not null,
  planner           text not null,
  plan              jsonb not null,
  status            text not null check (status in ('planned', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'canceled')),
  dry_run           boolean not null,
  principal         jsonb not null,
  requested_by      text not null,
  approval_required jsonb not null,
  error             jsonb,
  -- One server drives a run at a time: it holds the lease until lease_until and renews it.
  lease_owner       text,
  lease_until       timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  finished_at       timestamptz
);
create index runs_project_idx on {{schema}}.runs (project, created_at desc, id desc);
create index runs_live_idx on {{schema}}.runs (updated_at) where status in ('running', 'waiting_approval');

-- What each step did, recorded before the run moves on: a step recorded as finished is never called
-- again, whatever a resumed graph node re-runs.
create table {{schema}}.run_steps (
  run_id            uuid not null references {{schema}}.runs (id) on delete cascade,
  step_id           text not null,
  state             text not null check (state in ('waiting_approval', 'started', 'succeeded', 'skipped', 'failed', 'rejected')),
  args              jsonb not null,
  args_hash         text,
  approval_id       text,
  idempotency_key   text,
  attempts          integer not null default 0,
  result            jsonb,
  error             jsonb,
  started_at        timestamptz,
  finished_at       timestamptz,
  primary key (run_id, step_id)
);

-- A conversation's memory ("it", "that job", "the last model"), per project and thread.
create table {{schema}}.threads (
  project           text not null,
  thread_id         text not null,
  memory            jsonb not null,
  updated_at        timestamptz not null default now(),
  primary key (project, thread_id)
);

-- LangGraph's PostgresSaver tables (its migrations 0-4, @langchain/langgraph-checkpoint-postgres
-- 1.0), made here once rather than by saver.setup() on every server at once.
create table {{schema}}.checkpoint_migrations (v integer primary key);
create table {{schema}}.checkpoints (
  thread_id text not null,
  checkpoint_ns text not null default '',
  checkpoint_id text not null,
  parent_checkpoint_id text,
  type text,
  checkpoint jsonb not null,
  metadata jsonb not null default '{}',
  primary key (thread_id, checkpoint_ns, checkpoint_id)
);
create table {{schema}}.checkpoint_blobs (
  thread_id text not null,
  checkpoint_ns text not null default '',
  channel text not null,
  version text not null,
  type text not null,
  blob bytea,
  primary key (thread_id, checkpoint_ns, channel, version)
);
create table {{schema}}.checkpoint_writes (
  thread_id text not null,
  checkpoint_ns text not null default '',
  checkpoint_id text not null,
  task_id text not null,
  idx integer not null,
  channel text not null,
  type text,
  blob bytea not null,
  primary key (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
insert into {{schema}}.checkpoint_migrations (v) values (0), (1), (2), (3), (4);
