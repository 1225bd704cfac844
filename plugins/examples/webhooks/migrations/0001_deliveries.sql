-- Every delivery attempt, and what is left of deliveries that ran out of attempts.
-- Endpoint URLs are stored without credentials; endpoint secrets are never stored.
create table {{schema}}.deliveries (
  id              bigint generated always as identity primary key,
  event_id        text not null,
  event_type      text not null,
  -- The event's project (tenant); null for server-wide events, which no project's tools list.
  project         text,
  endpoint_index  integer not null,
  endpoint_url    text not null,
  attempt         integer not null,
  -- The HTTP status, when the endpoint answered; error says why the attempt failed otherwise.
  status_code     integer,
  error           text,
  duration_ms     double precision,
  at              timestamptz not null default now()
);
create index deliveries_project_idx on {{schema}}.deliveries (project, id desc);
create index deliveries_event_idx on {{schema}}.deliveries (event_id);

create table {{schema}}.dead_letters (
  id              bigint generated always as identity primary key,
  event_id        text not null,
  event_type      text not null,
  project         text,
  endpoint_index  integer not null,
  endpoint_url    text not null,
  -- The event as it would have been delivered (id, type, at, project, payload), for a replay.
  event           jsonb not null,
  last_error      text not null,
  attempts        integer not null,
  at              timestamptz not null default now(),
  unique (event_id, endpoint_index)
);
create index dead_letters_project_idx on {{schema}}.dead_letters (project, id desc);
