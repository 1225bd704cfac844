select * from {{schema}}.mandates where project = $1 and idempotency_key = $2
