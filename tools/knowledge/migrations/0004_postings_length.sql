-- Each posting carries its chunk's length (BM25's document length), so a search reads postings
-- alone: joining chunks per posting was most of a lexical search (EXPLAIN ANALYZE: ~2,500 chunk
-- lookups for a query with a common word). A chunk's length never changes (an edit writes new chunks).
alter table {{schema}}.postings add column if not exists length integer;
update {{schema}}.postings p set length = c.length from {{schema}}.chunks c where c.id = p.chunk and p.length is null;
delete from {{schema}}.postings where length is null;
alter table {{schema}}.postings alter column length set not null;

-- Bumped with every change of the postings (kb-counts.sql): servers keep an in-memory copy of
-- small knowledge bases' postings for BM25 and reload it when this moves.
alter table {{schema}}.kbs add column if not exists lexical_revision bigint not null default 0;
