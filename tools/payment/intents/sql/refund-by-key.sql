select * from {{schema}}.refunds where project = $1 and idempotency_key = $2
