select config from {{schema}}.routing_configs where project = $1
