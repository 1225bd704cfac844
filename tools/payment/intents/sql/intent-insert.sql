insert into {{schema}}.intents
  (id, project, amount, currency, payee, method, capture_method, country, merchant_category, mandate_id, status, idempotency_key, request_hash, metadata, created_by)
values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, 'requires_confirmation', $11, $12, $13::jsonb, $14)
on conflict (project, idempotency_key) do nothing
returning *
