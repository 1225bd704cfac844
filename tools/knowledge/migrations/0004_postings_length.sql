-- Lexical index, second form (measured on the shared man-page set, PGlite under load):
-- * each posting carries its chunk's length (BM25's document length), so scoring reads postings
--   alone instead of looking up ~2,500 chunks for a query with a common word;
-- * document frequencies are counted from the postings a query reads anyway, so the `terms`
--   table and its upsert per batch (0.2–1 s of each 200-document batch) are gone;
-- * each chunk lists its distinct terms, so its postings are deleted by primary key and the
--   secondary index on postings.chunk (a third of the posting insert time) is gone.
alter table {{schema}}.postings add column if not exists length integer;
update {{schema}}.postings p set length = c.length from {{schema}}.chunks c where c.id = p.chunk and p.length is null;
delete from {{schema}}.postings where length is null;
alter table {{schema}}.postings alter column length set not null;

alter table {{schema}}.chunks add column if not exists terms text[];
update {{schema}}.chunks c set terms = coalesce((select array_agg(p.term) from {{schema}}.postings p where p.chunk = c.id), '{}') where c.terms is null;
alter table {{schema}}.chunks alter column terms set not null;
drop index if exists {{schema}}.postings_chunk;
drop table if exists {{schema}}.terms;

-- Bumped with every change of the postings (kb-counts.sql): servers keep an in-memory copy of
-- small knowledge bases' postings for BM25 and reload it when this moves.
alter table {{schema}}.kbs add column if not exists lexical_revision bigint not null default 0;
