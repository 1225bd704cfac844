select trained_on from {{schema}}.indexes where id = $1
