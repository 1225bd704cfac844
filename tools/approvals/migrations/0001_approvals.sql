-- Approvals a person gives: kind ("payment", "agent-step"), subject (what it is about), the SHA-256
-- of exactly what is approved, and who asked and decided. Owned by the approvals plugin; payments and
-- the agent request and read them through its API.
create table {{schema}}.approvals (
  id                uuid primary key,
  project           text not null,
  kind              text not null,
  subject           text not null,
  hash              text not null,
  state             text not null check (state in ('pending', 'approved', 'denied')),
  summary           jsonb not null,
  requested_by      text not null,
  decided_by        text,
  reason            text,
  created_at        timestamptz not null default now(),
  decided_at        timestamptz,
  unique (project, kind, subject, hash)
);
create index approvals_pending_idx on {{schema}}.approvals (project, created_at) where state = 'pending';
create index approvals_subject_idx on {{schema}}.approvals (project, kind, subject);
