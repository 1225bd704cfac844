insert into {{schema}}.transfers
  (id, project, kind, debit_account_id, credit_account_id, amount, currency, state, pending_id, idempotency_key, request_hash, metadata, created_by)
values ($1, $2, $3, $4, $5, $6, $7, 'posted', $8, $9, $10, $11::jsonb, $12)
returning id
