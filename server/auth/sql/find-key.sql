select id, project_id, secret_sha256, scopes, tools, revoked_at
from anvil.api_keys
where id = $1
