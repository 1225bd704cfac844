update {{schema}}.tasks set state = $2, progress = $3, result = $4, error = $5, updated_at = now() where id = $1
