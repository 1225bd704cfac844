-- A model's alias changes, newest first, optionally of one alias only, after a keyset cursor on the id.
-- $1 project, $2 name, $3 alias (null: all), $4 limit, $5 before id (null: from the newest)
select id, alias, action, from_version, to_version, by, at, reason
from {{schema}}.model_alias_history
where project = $1::text and name = $2::text
  and ($3::text is null or alias = $3::text)
  and ($5::bigint is null or id < $5::bigint)
order by id desc
limit $4::int
