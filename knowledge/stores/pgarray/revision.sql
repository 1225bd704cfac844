select revision::text as revision from {{schema}}.indexes where id = $1
