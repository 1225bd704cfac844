-- Routing: per-project rules, success/failure counts per segment and connector (success-rate
-- routing), and every decision with its candidate set and the probability it was chosen with.

create table {{schema}}.routing_configs (
  project     text primary key,
  config      jsonb not null,
  updated_by  text not null,
  updated_at  timestamptz not null default now()
);

create table {{schema}}.routing_stats (
  project     text not null,
  segment     text not null,
  connector   text not null,
  successes   integer not null default 0,
  failures    integer not null default 0,
  -- The last outcomes, newest last (1 success, 0 failure): the window degraded-provider elimination reads.
  recent      smallint[] not null default '{}',
  primary key (project, segment, connector)
);

create table {{schema}}.routing_decisions (
  id          uuid primary key,
  project     text not null,
  intent_id   uuid not null,
  attempt     integer not null,
  segment     text not null,
  rule        text,
  strategy    text not null,
  candidates  jsonb not null,
  chosen      text not null,
  propensity  double precision not null check (propensity > 0 and propensity <= 1),
  outcome     text,
  created_at  timestamptz not null default now(),
  unique (intent_id, attempt)
);
create index routing_decisions_project_idx on {{schema}}.routing_decisions (project, created_at);
