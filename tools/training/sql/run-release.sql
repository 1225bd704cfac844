-- Drops a reserved run whose job was never submitted (the submit was refused). $1 project, $2 run key
delete from {{schema}}.training_runs where project = $1::text and run_key = $2::text and job_id is null
