select cursor from {{schema}}.provider_cursors where provider = $1
