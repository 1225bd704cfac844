insert into anvil.api_keys (id, project_id, name, secret_sha256, scopes)
values ($1, $2, $3, $4, $5)
returning id, project_id, name, scopes, created_at
