insert into {{schema}}.refunds (id, intent_id, project, amount, status, reason, idempotency_key, request_hash, created_by)
values ($1, $2, $3, $4, 'pending', $5, $6, $7, $8)
on conflict (project, idempotency_key) do nothing
returning *
