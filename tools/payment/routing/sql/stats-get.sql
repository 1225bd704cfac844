select connector, successes, failures, recent from {{schema}}.routing_stats where project = $1 and segment = $2
