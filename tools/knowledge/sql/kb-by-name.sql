select id, project, name, embedder, chunking, fusion, active_index, chunk_count, token_count::float8 as token_count, lexical_revision::text as lexical_revision, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
       (select count(*)::int from {{schema}}.documents d where d.kb = k.id) as document_count
from {{schema}}.kbs k where project = $1 and name = $2
