insert into {{schema}}.mandates
  (id, project, grantee, currency, max_per_payment, max_per_period, period, payees, categories, approval_above, expires_at, idempotency_key, request_hash, created_by)
values ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9::text[], $10, $11, $12, $13, $14)
on conflict (project, idempotency_key) do nothing
returning *
