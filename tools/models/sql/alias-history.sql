-- A model's alias changes, newest first, optionally of one alias only.
-- $1 project, $2 name, $3 alias (null: all), $4 limit
select id, alias, action, from_version, to_version, by, at, reason
from {{schema}}.model_alias_history
where project = $1::text and name = $2::text
  and ($3::text is null or alias = $3::text)
order by id desc
limit $4::int
