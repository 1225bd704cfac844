select * from {{schema}}.predictions where project = $1 and request_id = $2 and not shadow
