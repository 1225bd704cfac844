update {{schema}}.mandates set state = 'revoked' where project = $1 and id::text = $2 returning id
