-- Dashboard sign-in sessions. Only the SHA-256 of the cookie's random id is kept (a leaked table
-- cannot be replayed as cookies), with the principal the key stood for when it signed in (re-read
-- from the key on every request) and the key id — never the key.
create table {{schema}}.sessions (
  id_hash text primary key,
  project text not null,
  principal jsonb not null,
  key_id text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index sessions_expires_at on {{schema}}.sessions (expires_at);
create index sessions_key_id on {{schema}}.sessions (key_id);
