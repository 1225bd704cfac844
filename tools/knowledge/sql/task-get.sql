select t.id::text as id, k.name as kb, t.kind, t.state, t.progress, t.result, t.error, t.created_at::text as created_at, t.updated_at::text as updated_at
from {{schema}}.tasks t join {{schema}}.kbs k on k.id = t.kb where t.project = $1 and t.id::text = $2
