-- One evaluation of a project. $1 project, $2 id
select id, project, kind, model_name, model_version, champion_name, champion_version, dataset_name, dataset_version,
       dataset_sha256, split, row_count, metrics, verdict, report_sha256, evaluation_sha256, created_at
from {{schema}}.evaluations
where project = $1::text and id = $2::text
