update {{schema}}.indexes set revision = revision + 1 where id = $1
