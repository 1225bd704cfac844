-- kb_eval runs large evaluations as tasks too (their result is kb_eval's answer).
alter table {{schema}}.tasks drop constraint if exists tasks_kind_check;
alter table {{schema}}.tasks add constraint tasks_kind_check check (kind in ('ingest', 'reindex', 'eval'));
