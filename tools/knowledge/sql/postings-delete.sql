-- The postings of chunks about to be deleted, by primary key (each chunk lists its terms).
delete from {{schema}}.postings p
using (select c.id, unnest(c.terms) as term from {{schema}}.chunks c where c.kb = $1 and c.id = any($2::bigint[])) old
where p.kb = $1 and p.term = old.term and p.chunk = old.id
