insert into {{schema}}.sessions (id_hash, project, principal, key_id, expires_at)
values ($1, $2, $3::jsonb, $4, now() + make_interval(secs => $5))
