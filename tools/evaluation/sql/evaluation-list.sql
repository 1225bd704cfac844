-- A project's evaluations of one model (as the candidate or as the champion), newest first.
-- $1 project, $2 model name, $3 model version (null: every version), $4 limit
select id, project, kind, model_name, model_version, champion_name, champion_version, dataset_name, dataset_version,
       dataset_sha256, split, row_count, metrics, verdict, report_sha256, evaluation_sha256, created_at
from {{schema}}.evaluations
where project = $1::text
  and ((model_name = $2::text and ($3::integer is null or model_version = $3::integer))
    or (champion_name = $2::text and ($3::integer is null or champion_version = $3::integer)))
order by created_at desc, id
limit $4::integer
