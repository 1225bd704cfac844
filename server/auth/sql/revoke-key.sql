update anvil.api_keys
set revoked_at = coalesce(revoked_at, now())
where id = $1
returning id, project_id, name, scopes, tools, created_at, last_used_at, revoked_at
