update {{schema}}.kbs set chunk_count = chunk_count + $2, token_count = token_count + $3 where id = $1
