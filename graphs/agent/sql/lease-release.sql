update {{schema}}.runs set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2
