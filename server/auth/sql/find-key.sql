select id, project_id, secret_sha256, scopes, revoked_at
from anvil.api_keys
where id = $1
