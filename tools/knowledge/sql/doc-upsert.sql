-- $1 kb, $2 jsonb array of {id, version, sha256, format, source, title, metadata, text, pages, chunk_count}
insert into {{schema}}.documents (kb, id, version, sha256, format, source, title, metadata, text, pages, chunk_count, updated_at)
select $1, d.id, d.version, d.sha256, d.format, d.source, d.title, d.metadata, d.text, d.pages, d.chunk_count, now()
from jsonb_to_recordset($2::jsonb) as d(id text, version int, sha256 text, format text, source text, title text, metadata jsonb, text text, pages jsonb, chunk_count int)
on conflict (kb, id) do update set version = excluded.version, sha256 = excluded.sha256, format = excluded.format, source = excluded.source,
  title = excluded.title, metadata = excluded.metadata, text = excluded.text, pages = excluded.pages, chunk_count = excluded.chunk_count, updated_at = now()
