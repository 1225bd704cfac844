-- A project's datasets by name, each with its latest version; keyset-paginated on name.
-- $1 project, $2 name prefix (null: all), $3 cursor (names after it; null: from the start), $4 limit
select v.*, d.created_at as dataset_created_at, d.created_by as dataset_created_by
from {{schema}}.datasets d
join {{schema}}.dataset_versions v on v.project = d.project and v.name = d.name and v.version = d.latest_version
where d.project = $1::text
  and ($2::text is null or starts_with(d.name, $2::text))
  and ($3::text is null or d.name > $3::text)
order by d.name
limit $4::integer
