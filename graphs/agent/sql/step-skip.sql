insert into {{schema}}.run_steps (run_id, step_id, state, args, error, attempts, finished_at)
values ($1, $2, 'skipped', '{}'::jsonb, $3::jsonb, 0, now())
on conflict (run_id, step_id) do nothing
