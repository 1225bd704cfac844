select * from {{schema}}.refunds where id = $1
