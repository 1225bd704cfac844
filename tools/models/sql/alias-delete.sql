-- $1 project, $2 name, $3 alias
delete from {{schema}}.model_aliases
where project = $1::text and name = $2::text and alias = $3::text
