select id from {{schema}}.mandates where project = $1 and grantee = $2 and state = 'active' and expires_at > now()
