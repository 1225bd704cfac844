-- One version of a model. $3 null: the latest version.
-- $1 project, $2 name, $3 version (null: latest)
select v.*
from {{schema}}.model_versions v
where v.project = $1::text and v.name = $2::text
  and ($3::int is null or v.version = $3::int)
order by v.version desc
limit 1
