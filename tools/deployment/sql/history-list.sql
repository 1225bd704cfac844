select id, at, by, action, detail from {{schema}}.deployment_history where project = $1 and name = $2 order by id desc limit $3
