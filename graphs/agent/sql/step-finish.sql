update {{schema}}.run_steps set state = $3, result = $4::jsonb, error = $5::jsonb, finished_at = now()
where run_id = $1 and step_id = $2 and state not in ('succeeded', 'skipped', 'failed', 'rejected')
returning *
