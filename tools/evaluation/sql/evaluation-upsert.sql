-- Stores an evaluation (the success hook may run again for the same job: the row is replaced).
-- $1 id, $2 project, $3 kind, $4 model name, $5 model version, $6 champion name, $7 champion version,
-- $8 dataset name, $9 dataset version, $10 dataset sha256, $11 split, $12 row count, $13 metrics (json),
-- $14 verdict, $15 report sha256, $16 evaluation sha256
insert into {{schema}}.evaluations
  (id, project, kind, model_name, model_version, champion_name, champion_version, dataset_name, dataset_version,
   dataset_sha256, split, row_count, metrics, verdict, report_sha256, evaluation_sha256)
values ($1::text, $2::text, $3::text, $4::text, $5::integer, $6::text, $7::integer, $8::text, $9::integer,
        $10::text, $11::text, $12::integer, $13::jsonb, $14::text, $15::text, $16::text)
on conflict (id) do update set
  kind = excluded.kind, model_name = excluded.model_name, model_version = excluded.model_version,
  champion_name = excluded.champion_name, champion_version = excluded.champion_version,
  dataset_name = excluded.dataset_name, dataset_version = excluded.dataset_version, dataset_sha256 = excluded.dataset_sha256,
  split = excluded.split, row_count = excluded.row_count, metrics = excluded.metrics, verdict = excluded.verdict,
  report_sha256 = excluded.report_sha256, evaluation_sha256 = excluded.evaluation_sha256
where {{schema}}.evaluations.project = excluded.project
returning id, project, kind, model_name, model_version, champion_name, champion_version, dataset_name, dataset_version,
          dataset_sha256, split, row_count, metrics, verdict, report_sha256, evaluation_sha256, created_at
