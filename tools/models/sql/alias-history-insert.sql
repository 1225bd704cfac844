-- $1 project, $2 name, $3 alias, $4 action (set, move, clear), $5 from version, $6 to version,
-- $7 by, $8 reason (null: none)
insert into {{schema}}.model_alias_history (project, name, alias, action, from_version, to_version, by, reason)
values ($1::text, $2::text, $3::text, $4::text, $5::int, $6::int, $7::text, $8::text)
returning id, at
