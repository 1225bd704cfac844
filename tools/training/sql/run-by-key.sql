-- The training run reserved under an idempotency key in a project. $1 project, $2 run key
select * from {{schema}}.training_runs where project = $1::text and run_key = $2::text
