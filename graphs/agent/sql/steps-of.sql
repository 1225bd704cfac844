select * from {{schema}}.run_steps where run_id = $1 order by started_at nulls last, step_id
