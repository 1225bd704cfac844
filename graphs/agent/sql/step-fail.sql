insert into {{schema}}.run_steps (run_id, step_id, state, args, error, attempts, finished_at)
values ($1, $2, 'failed', '{}'::jsonb, $3::jsonb, 0, now())
on conflict (run_id, step_id) do update set state = 'failed', error = excluded.error, finished_at = now()
where {{schema}}.run_steps.state not in ('succeeded', 'skipped', 'failed', 'rejected')
