-- Evaluations (plugin `evaluation`, schema plugin_evaluation): one row per succeeded `evaluation`
-- job, written by the plugin's success hook before the job is marked succeeded. The full detail is
-- the job's evaluation.json artifact; the report is its report.md artifact (a blob, by SHA-256).

create table {{schema}}.evaluations (
  -- The evaluation job's id.
  id                 text primary key,
  project            text not null,
  -- 'run': one model; 'compare': a candidate against a champion on the same rows.
  kind               text not null check (kind in ('run', 'compare')),
  -- The candidate (for a run: the model evaluated). Null when the job was submitted by hand
  -- (jobs_submit) without a registry subject.
  model_name         text,
  model_version      integer,
  champion_name      text,
  champion_version   integer,
  dataset_name       text,
  dataset_version    integer,
  dataset_sha256     text,
  split              text not null,
  row_count          integer not null,
  -- {candidate: {accuracy, macroF1, …}, champion?: {…}, comparison?: {primary, deltas, explanation}}
  metrics            jsonb not null,
  verdict            text check (verdict in ('better', 'worse', 'inconclusive')),
  report_sha256      text,
  evaluation_sha256  text,
  created_at         timestamptz not null default now()
);

create index evaluations_project_created_idx on {{schema}}.evaluations (project, created_at desc);
create index evaluations_model_idx on {{schema}}.evaluations (project, model_name, model_version);
