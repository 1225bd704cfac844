-- The double-entry ledger (plugin `payments`, schema plugin_payments). TigerBeetle's model:
-- accounts keep four running totals; every transfer adds the same amount to one account's debits
-- and another's credits, so per currency the sum of all debits always equals the sum of all credits.
-- Amounts are integers in minor units (numeric(38,0): no floats anywhere, pg returns them as strings).
-- The account flags are CHECK constraints, so no code path — a tool, the sweeper or a later
-- migration — can commit a balance that breaks them: a violating statement fails whole.

create table {{schema}}.accounts (
  id               uuid primary key,
  project          text not null,
  code             text not null,
  kind             text not null check (kind in ('asset', 'liability', 'revenue', 'expense')),
  currency         text not null check (currency ~ '^[A-Z]{3}$'),
  -- 1: debits must not exceed credits; 2: credits must not exceed debits (TigerBeetle's flags).
  flags            integer not null default 0 check (flags between 0 and 3 and flags <> 3),
  debits_pending   numeric(38, 0) not null default 0 check (debits_pending >= 0),
  debits_posted    numeric(38, 0) not null default 0 check (debits_posted >= 0),
  credits_pending  numeric(38, 0) not null default 0 check (credits_pending >= 0),
  credits_posted   numeric(38, 0) not null default 0 check (credits_posted >= 0),
  metadata         jsonb not null default '{}'::jsonb,
  -- The account's code is its idempotency key: the same code with the same spec returns it, another spec is a conflict.
  request_hash     text not null,
  created_at       timestamptz not null default now(),
  constraint accounts_debits_must_not_exceed_credits check ((flags & 1) = 0 or debits_pending + debits_posted <= credits_posted),
  constraint accounts_credits_must_not_exceed_debits check ((flags & 2) = 0 or credits_pending + credits_posted <= debits_posted),
  unique (project, code)
);

create table {{schema}}.transfers (
  id                  uuid primary key,
  project             text not null,
  -- single: posted at once; pending: reserved until post, void or timeout; post / void: resolve a pending one.
  kind                text not null check (kind in ('single', 'pending', 'post', 'void')),
  debit_account_id    uuid not null references {{schema}}.accounts (id),
  credit_account_id   uuid not null references {{schema}}.accounts (id),
  amount              numeric(38, 0) not null check (amount > 0),
  currency            text not null,
  -- pending transfers: pending → posted | voided | expired; every other kind is 'posted' or 'voided' at birth.
  state               text not null check (state in ('posted', 'pending', 'voided', 'expired')),
  pending_id          uuid references {{schema}}.transfers (id),
  timeout_at          timestamptz,
  idempotency_key     text not null,
  request_hash        text not null,
  metadata            jsonb not null default '{}'::jsonb,
  created_by          text not null,
  created_at          timestamptz not null default now(),
  resolved_at         timestamptz,
  check (debit_account_id <> credit_account_id),
  unique (project, idempotency_key)
);
create index transfers_project_created_idx on {{schema}}.transfers (project, created_at desc, id desc);
create index transfers_pending_timeout_idx on {{schema}}.transfers (timeout_at) where state = 'pending';
create index transfers_pending_id_idx on {{schema}}.transfers (pending_id) where pending_id is not null;
