select * from {{schema}}.routing_decisions where intent_id = $1 and attempt = $2
