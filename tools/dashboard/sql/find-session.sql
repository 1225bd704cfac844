select principal, expires_at from {{schema}}.sessions where id_hash = $1 and expires_at > now()
