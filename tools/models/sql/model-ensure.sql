-- Creates a model on its first registration; a model that exists (or is being created by a
-- concurrent registration, which this waits for) is left as it is.
-- $1 project, $2 name, $3 description (null: none), $4 created by
insert into {{schema}}.models (project, name, description, created_by)
values ($1::text, $2::text, $3::text, $4::text)
on conflict (project, name) do nothing
