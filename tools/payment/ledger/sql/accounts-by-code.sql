select * from {{schema}}.accounts where project = $1 and code = any($2::text[])
