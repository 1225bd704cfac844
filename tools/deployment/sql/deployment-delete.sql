delete from {{schema}}.deployments where project = $1 and name = $2
