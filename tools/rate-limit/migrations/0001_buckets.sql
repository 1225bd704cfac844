-- Token buckets for the SQL backend of the rate-limit plugin: one row per bucket key.
create table {{schema}}.buckets (
  key         text primary key,
  -- Tokens left at updated_at (fractional: refill is continuous).
  tokens      double precision not null,
  updated_at  timestamptz not null,
  -- When the bucket is full again. A row past it means the same as no row, so the sweep deletes it.
  full_at     timestamptz not null,
  -- Whether the latest take got a token; lets one upsert return the decision.
  allowed     boolean not null
);
create index buckets_full_at_idx on {{schema}}.buckets (full_at);
