select id, version, sha256, format, source, title, metadata, chunk_count, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at
from {{schema}}.documents where kb = $1 order by id limit $2
