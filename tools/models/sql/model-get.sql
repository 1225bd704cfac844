-- A model with its latest version number and its aliases ({alias: version}).
-- $1 project, $2 name
select m.name, m.description, m.created, m.created_by,
       (select max(v.version) from {{schema}}.model_versions v where v.project = m.project and v.name = m.name) as latest_version,
       (select count(*) from {{schema}}.model_versions v where v.project = m.project and v.name = m.name)::int as version_count,
       coalesce((select jsonb_object_agg(a.alias, a.version order by a.alias)
                 from {{schema}}.model_aliases a where a.project = m.project and a.name = m.name), '{}'::jsonb) as aliases
from {{schema}}.models m
where m.project = $1::text and m.name = $2::text
