-- The training run of a job, if training_start started it.
-- $1 job id
select * from {{schema}}.training_runs where job_id = $1::uuid
