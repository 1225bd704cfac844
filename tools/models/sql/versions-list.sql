-- A model's versions, newest first, after a keyset cursor on the version, each with the aliases
-- that point at it.
-- $1 project, $2 name, $3 before version (null: from the newest), $4 limit
select v.version, v.task, v.recipe, v.metrics, v.lineage ->> 'jobId' as job_id, v.status, v.created_at, v.created_by,
       coalesce((select array_agg(a.alias order by a.alias)
                 from {{schema}}.model_aliases a
                 where a.project = v.project and a.name = v.name and a.version = v.version), '{}'::text[]) as aliases
from {{schema}}.model_versions v
where v.project = $1::text and v.name = $2::text
  and ($3::int is null or v.version < $3::int)
order by v.version desc
limit $4::int
