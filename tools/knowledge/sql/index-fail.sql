update {{schema}}.indexes set state = 'failed' where id = $1
