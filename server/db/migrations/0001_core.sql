-- Tenancy, credentials and the audit trail: what every other table hangs off.
create table anvil.projects (
  id          text primary key check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name        text not null,
  created_at  timestamptz not null default now()
);

create table anvil.api_keys (
  id            text primary key,
  project_id    text not null references anvil.projects (id),
  name          text,
  secret_sha256 bytea not null,
  scopes        text[] not null,
  created_at    timestamptz not null default now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
create index api_keys_project_idx on anvil.api_keys (project_id);

create table anvil.audit_log (
  id           uuid primary key,
  at           timestamptz not null,
  request_id   text not null,
  principal    text not null,
  project_id   text not null,
  tool         text not null,
  args_sha256  text not null,
  outcome      text not null check (outcome in ('ok', 'error', 'denied')),
  error_code   text,
  duration_ms  double precision not null,
  transport    text not null
);
create index audit_log_project_at_idx on anvil.audit_log (project_id, at desc);
