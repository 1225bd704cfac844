-- A project's knowledge bases by name, after a keyset cursor on the name ($2 null: from the first).
-- $1 project, $2 after name, $3 limit
select k.name, k.chunk_count, (select count(*)::int from {{schema}}.documents d where d.kb = k.id) as document_count, k.embedder, k.active_index, to_char(k.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
from {{schema}}.kbs k where project = $1 and ($2::text is null or k.name > $2::text) order by name limit $3
