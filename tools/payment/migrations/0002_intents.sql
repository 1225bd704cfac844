-- Payment intents (Stripe's PaymentIntents), their provider attempts, refunds, and the provider
-- events received (webhooks and polling), deduplicated by event id.

create table {{schema}}.intents (
  id                  uuid primary key,
  project             text not null,
  amount              numeric(38, 0) not null check (amount > 0),
  currency            text not null,
  payee               text not null,
  -- {type: 'card', token}: a provider token, never a card number.
  method              jsonb not null,
  capture_method      text not null check (capture_method in ('automatic', 'manual')),
  country             text,
  merchant_category   text,
  mandate_id          uuid,
  status              text not null check (status in ('requires_confirmation', 'processing', 'requires_action', 'requires_capture', 'succeeded', 'failed', 'canceled')),
  provider            text,
  connector           text,
  provider_payment_id text,
  -- The provider's sequence of the last snapshot applied: older ones are ignored.
  provider_sequence   integer not null default 0,
  amount_authorized   numeric(38, 0) not null default 0,
  amount_captured     numeric(38, 0) not null default 0,
  amount_refunded     numeric(38, 0) not null default 0,
  -- Refunds sent to the provider and not settled yet: captured − refunded − reserved bounds the next refund.
  refund_reserved     numeric(38, 0) not null default 0,
  capture_requested   numeric(38, 0),
  fee                 numeric(38, 0) not null default 0,
  decline_code        text,
  risk                jsonb,
  preview_hash        text,
  idempotency_key     text not null,
  request_hash        text not null,
  metadata            jsonb not null default '{}'::jsonb,
  created_by          text not null,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  check (amount_refunded + refund_reserved <= amount_captured),
  check (amount_captured <= amount),
  unique (project, idempotency_key)
);
create index intents_project_created_idx on {{schema}}.intents (project, created_at desc, id desc);
create unique index intents_provider_payment_idx on {{schema}}.intents (provider, provider_payment_id) where provider_payment_id is not null;
create index intents_resumable_idx on {{schema}}.intents (updated_at) where status = 'processing';

-- One row per authorization sent to a connector: its key is what the provider deduplicates on.
create table {{schema}}.attempts (
  id                  uuid primary key,
  intent_id           uuid not null references {{schema}}.intents (id),
  project             text not null,
  number              integer not null,
  provider            text not null,
  connector           text not null,
  idempotency_key     text not null unique,
  -- sent: outcome unknown until the provider answers or is asked; then the provider's status.
  status              text not null,
  decline_code        text,
  soft_decline        boolean,
  provider_payment_id text,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  unique (intent_id, number)
);

create table {{schema}}.refunds (
  id                  uuid primary key,
  intent_id           uuid not null references {{schema}}.intents (id),
  project             text not null,
  amount              numeric(38, 0) not null check (amount > 0),
  status              text not null check (status in ('pending', 'succeeded', 'failed')),
  provider_refund_id  text,
  reason              text,
  idempotency_key     text not null,
  request_hash        text not null,
  created_by          text not null,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  unique (project, idempotency_key)
);
create index refunds_intent_idx on {{schema}}.refunds (intent_id);
create index refunds_pending_idx on {{schema}}.refunds (updated_at) where status = 'pending';

-- Every provider event received, once: a duplicate delivery inserts nothing.
create table {{schema}}.provider_events (
  provider            text not null,
  event_id            text not null,
  provider_payment_id text not null,
  sequence            integer not null,
  type                text not null,
  via                 text not null check (via in ('webhook', 'poll')),
  -- applied: moved the intent forward; stale: an older sequence than already applied; orphan: no intent (yet).
  outcome             text not null,
  received_at         timestamptz not null default now(),
  primary key (provider, event_id)
);

create table {{schema}}.provider_cursors (
  provider            text primary key,
  cursor              text,
  updated_at          timestamptz not null default now()
);
