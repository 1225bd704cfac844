-- The knowledge base as a search needs it: settings and BM25 statistics, no counting.
select id, project, name, embedder, chunking, fusion, active_index, chunk_count, token_count::float8 as token_count, lexical_revision::text as lexical_revision, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, 0 as document_count,
       (select i.revision::text from {{schema}}.indexes i where i.id = k.active_index) as index_revision
from {{schema}}.kbs k where project = $1 and name = $2
