-- A project's models by name, after a keyset cursor on the name, each with its latest version
-- (number, task, when) and its aliases.
-- $1 project, $2 after name (null: from the first), $3 limit
select m.name, m.description, m.created, m.created_by,
       latest.version as latest_version, latest.task as latest_task, latest.created_at as latest_created_at,
       (select count(*) from {{schema}}.model_versions v where v.project = m.project and v.name = m.name)::int as version_count,
       coalesce((select jsonb_object_agg(a.alias, a.version order by a.alias)
                 from {{schema}}.model_aliases a where a.project = m.project and a.name = m.name), '{}'::jsonb) as aliases
from {{schema}}.models m
left join lateral (
  select v.version, v.task, v.created_at
  from {{schema}}.model_versions v
  where v.project = m.project and v.name = m.name
  order by v.version desc
  limit 1
) latest on true
where m.project = $1::text
  and ($2::text is null or m.name > $2::text)
order by m.name
limit $3::int
