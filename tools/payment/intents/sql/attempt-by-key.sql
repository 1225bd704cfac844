select * from {{schema}}.attempts where idempotency_key = $1
