delete from {{schema}}.indexes where id = $1
