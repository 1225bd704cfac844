-- Points an alias at a version, creating it or moving it.
-- $1 project, $2 name, $3 alias, $4 version, $5 set by
insert into {{schema}}.model_aliases (project, name, alias, version, set_at, set_by)
values ($1::text, $2::text, $3::text, $4::int, now(), $5::text)
on conflict (project, name, alias) do update
  set version = excluded.version, set_at = excluded.set_at, set_by = excluded.set_by
