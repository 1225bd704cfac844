-- A knowledge base's documents by id, after a keyset cursor on the id ($2 null: from the first).
-- $1 kb, $2 after id, $3 limit
select id, version, sha256, format, source, title, metadata, chunk_count, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at
from {{schema}}.documents where kb = $1 and ($2::text is null or id > $2::text) order by id limit $3
