select k.name, k.chunk_count, (select count(*)::int from {{schema}}.documents d where d.kb = k.id) as document_count, k.embedder, k.active_index, to_char(k.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
from {{schema}}.kbs k where project = $1 order by name limit $2
