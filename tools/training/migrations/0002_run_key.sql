-- A training run is recorded before its job is submitted, keyed by the job's idempotency key, so a
-- crash between the two cannot leave a job whose model is never registered: the success hook finds
-- the run by (project, key) and attaches the job. job_id is set once the submit returned.

alter table {{schema}}.training_runs drop constraint training_runs_pkey;
alter table {{schema}}.training_runs alter column job_id drop not null;
-- The idempotency key the job is (or will be) submitted with.
alter table {{schema}}.training_runs add column run_key text;
update {{schema}}.training_runs set run_key = 'job-' || job_id::text where run_key is null;
alter table {{schema}}.training_runs alter column run_key set not null;
alter table {{schema}}.training_runs add primary key (project, run_key);
create unique index training_runs_job_idx on {{schema}}.training_runs (job_id);
