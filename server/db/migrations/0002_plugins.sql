-- Plugins: per-project switches, tool allowlists on keys, and details a tool attaches to its audit entry.
create table anvil.project_plugins (
  project_id  text not null references anvil.projects (id),
  plugin_id   text not null,
  enabled     boolean not null,
  updated_at  timestamptz not null default now(),
  updated_by  text not null,
  primary key (project_id, plugin_id)
);

alter table anvil.api_keys add column tools text[];
alter table anvil.audit_log add column details jsonb;
