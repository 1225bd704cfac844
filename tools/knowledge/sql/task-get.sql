select t.id::text as id, k.name as kb, t.kind, t.state, t.progress, t.result, t.error, to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at
from {{schema}}.tasks t join {{schema}}.kbs k on k.id = t.kb where t.project = $1 and t.id::text = $2
