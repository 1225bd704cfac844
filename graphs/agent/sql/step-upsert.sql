insert into {{schema}}.run_steps (run_id, step_id, state, args, args_hash, approval_id, idempotency_key, attempts, started_at)
values ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, case when $3 = 'started' then now() end)
on conflict (run_id, step_id) do update set state = excluded.state, args = excluded.args, args_hash = excluded.args_hash,
  approval_id = coalesce(excluded.approval_id, {{schema}}.run_steps.approval_id),
  idempotency_key = coalesce(excluded.idempotency_key, {{schema}}.run_steps.idempotency_key),
  attempts = {{schema}}.run_steps.attempts + excluded.attempts,
  started_at = coalesce({{schema}}.run_steps.started_at, excluded.started_at)
where {{schema}}.run_steps.state not in ('succeeded', 'skipped', 'failed', 'rejected')
returning *
