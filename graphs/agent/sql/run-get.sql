select * from {{schema}}.runs where project = $1 and id::text = $2
