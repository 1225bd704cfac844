select * from {{schema}}.intents where project = $1 and idempotency_key = $2
