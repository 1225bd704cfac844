-- BM25 as bm25.sql, over the chunks whose metadata contains $5 (the filter applied inside the leg).
-- $1 kb, $2 query terms (distinct), $3 N chunks, $4 average length, $5 metadata filter (jsonb), $6 limit
with q as (
  select t.term, ln(1 + ($3::float8 - t.df + 0.5::float8) / (t.df + 0.5::float8)) as idf
  from {{schema}}.terms t
  where t.kb = $1 and t.term = any($2::text[])
)
select p.chunk::text as id,
       sum(q.idf * p.tf * 2.2::float8 / (p.tf + 1.2::float8 * (0.25::float8 + 0.75::float8 * p.length / $4::float8))) as score
from q
join {{schema}}.postings p on p.kb = $1 and p.term = q.term
join {{schema}}.chunks c on c.id = p.chunk
where c.metadata @> $5::jsonb
group by p.chunk
order by score desc, p.chunk
limit $6
