select * from {{schema}}.feedback where project = $1 and request_id = $2
