select * from {{schema}}.accounts where project = $1 and (code = $2 or id::text = $2)
