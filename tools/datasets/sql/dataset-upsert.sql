-- Creates the dataset on its first import (a no-op when it exists).
-- $1 project, $2 name, $3 created by
insert into {{schema}}.datasets (project, name, created_by) values ($1::text, $2::text, $3::text)
on conflict (project, name) do nothing
