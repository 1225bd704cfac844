-- Names the job of a reserved run (once: a run keeps the job it was first attached to).
-- $1 project, $2 run key, $3 job id
update {{schema}}.training_runs set job_id = $3::uuid
where project = $1::text and run_key = $2::text and (job_id is null or job_id = $3::uuid)
returning *
