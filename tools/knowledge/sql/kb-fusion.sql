update {{schema}}.kbs set fusion = $2 where id = $1
