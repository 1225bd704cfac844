select id::text as id from {{schema}}.tasks where project = $1 and idempotency_key = $2
