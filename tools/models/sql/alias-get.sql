-- What an alias of a model points at.
-- $1 project, $2 name, $3 alias
select alias, version, set_at, set_by
from {{schema}}.model_aliases
where project = $1::text and name = $2::text and alias = $3::text
