update {{schema}}.kbs set embedder = $2 where id = $1
