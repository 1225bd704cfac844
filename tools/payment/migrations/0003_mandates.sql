-- Spending mandates for agents (AP2-style): what a grantee principal may pay, enforced on the
-- server. Usage per period is one row whose conditional update is the cap: concurrent payments
-- queue on its lock and each re-checks the cap against the committed total.

create table {{schema}}.mandates (
  id                uuid primary key,
  project           text not null,
  grantee           text not null,
  currency          text not null,
  max_per_payment   numeric(38, 0) not null check (max_per_payment > 0),
  max_per_period    numeric(38, 0) not null check (max_per_period > 0),
  period            text not null check (period in ('day', 'week', 'month', 'total')),
  payees            text[],
  categories        text[],
  approval_above    numeric(38, 0),
  expires_at        timestamptz not null,
  state             text not null default 'active' check (state in ('active', 'revoked')),
  idempotency_key   text not null,
  request_hash      text not null,
  created_by        text not null,
  created_at        timestamptz not null default now(),
  unique (project, idempotency_key)
);
create index mandates_grantee_idx on {{schema}}.mandates (project, grantee) where state = 'active';

create table {{schema}}.mandate_usage (
  mandate_id        uuid not null references {{schema}}.mandates (id),
  period_start      timestamptz not null,
  used              numeric(38, 0) not null default 0 check (used >= 0),
  primary key (mandate_id, period_start)
);

-- What each payment reserved against its mandate, released once if the payment fails or is canceled.
create table {{schema}}.mandate_charges (
  intent_id         uuid primary key,
  mandate_id        uuid not null references {{schema}}.mandates (id),
  period_start      timestamptz not null,
  amount            numeric(38, 0) not null,
  state             text not null check (state in ('reserved', 'released')),
  created_at        timestamptz not null default now()
);

-- Approvals a person gives (kind, subject, hash): generic, so a later approvals tool can list any kind.
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

alter table {{schema}}.intents add column preview jsonb;
