select * from {{schema}}.intents where project = $1 and id::text = $2
