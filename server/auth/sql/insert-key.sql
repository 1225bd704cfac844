insert into anvil.api_keys (id, project_id, name, secret_sha256, scopes, tools)
values ($1, $2, $3, $4, $5, $6)
returning id, project_id, name, scopes, tools, created_at
