select id, project_id, name, scopes, tools, created_at, last_used_at, revoked_at
from anvil.api_keys
where $1::text is null or project_id = $1
order by created_at, id
