select id, version, sha256, format, source, title, metadata, chunk_count, updated_at::text as updated_at
from {{schema}}.documents where kb = $1 order by id limit $2
