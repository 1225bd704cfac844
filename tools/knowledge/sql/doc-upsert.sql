insert into {{schema}}.documents (kb, id, version, sha256, format, source, title, metadata, text, pages, chunk_count, updated_at)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
on conflict (kb, id) do update set version = excluded.version, sha256 = excluded.sha256, format = excluded.format, source = excluded.source,
  title = excluded.title, metadata = excluded.metadata, text = excluded.text, pages = excluded.pages, chunk_count = excluded.chunk_count, updated_at = now()
