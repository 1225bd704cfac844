update {{schema}}.routing_decisions set outcome = $3 where intent_id = $1 and attempt = $2 and outcome is null
returning segment, chosen
