-- Lineage in a project, newest first, by dataset version, job and/or model (null: any).
-- $1 project, $2 dataset version id, $3 job id, $4 model name, $5 model version, $6 kind, $7 limit
select l.id, l.dataset_version_id, l.kind, l.job_id, l.model_name, l.model_version, l.at, v.name, v.version
from {{schema}}.dataset_lineage l
join {{schema}}.dataset_versions v on v.id = l.dataset_version_id
where v.project = $1::text
  and ($2::uuid is null or l.dataset_version_id = $2::uuid)
  and ($3::uuid is null or l.job_id = $3::uuid)
  and ($4::text is null or l.model_name = $4::text)
  and ($5::text is null or l.model_version = $5::text)
  and ($6::text is null or l.kind = $6::text)
order by l.at desc, l.id desc
limit $7::integer
