-- BM25 as bm25.sql over the chunks whose metadata contains $5 (the filter applied inside the leg;
-- document frequencies stay those of the whole knowledge base).
-- $1 kb, $2 query terms (distinct), $3 N chunks, $4 average length, $5 metadata filter (jsonb), $6 limit
with p as materialized (
  select term, chunk, tf, length from {{schema}}.postings where kb = $1 and term = any($2::text[])
), q as (
  select term, ln(1 + ($3::float8 - count(*) + 0.5::float8) / (count(*) + 0.5::float8)) as idf from p group by term
)
select p.chunk::text as id,
       sum(q.idf * p.tf * 2.2::float8 / (p.tf + 1.2::float8 * (0.25::float8 + 0.75::float8 * p.length / $4::float8))) as score
from p join q on q.term = p.term
join {{schema}}.chunks c on c.id = p.chunk
where c.metadata @> $5::jsonb
group by p.chunk
order by score desc, p.chunk
limit $6
