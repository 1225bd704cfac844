select k.name, k.chunk_count, (select count(*)::int from {{schema}}.documents d where d.kb = k.id) as document_count, k.embedder, k.active_index, k.created_at::text as created_at
from {{schema}}.kbs k where project = $1 order by name limit $2
