select * from {{schema}}.runs where id = $1
