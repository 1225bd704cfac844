-- Postings without their foreign key to chunks: its per-row check was most of the ingest time
-- (8.2 s of 20 s for 400 man pages). Rows are deleted explicitly with their chunks (writer.ts)
-- and with their knowledge base (kb-delete.sql).
alter table {{schema}}.postings drop constraint if exists postings_chunk_fkey;
