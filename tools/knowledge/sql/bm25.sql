-- BM25 (k1 1.2, b 0.75) over the chunks of one knowledge base from stored statistics.
-- $1 kb, $2 query terms (distinct), $3 N chunks, $4 average length, $5 metadata filter (jsonb or null), $6 limit
with q as (
  select t.term, ln(1 + ($3::float8 - t.df + 0.5) / (t.df + 0.5)) as idf
  from {{schema}}.terms t
  where t.kb = $1 and t.term = any($2::text[])
)
select p.chunk::text as id,
       sum(q.idf * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * c.length / $4::float8)))::float8 as score
from q
join {{schema}}.postings p on p.kb = $1 and p.term = q.term
join {{schema}}.chunks c on c.id = p.chunk
where $5::jsonb is null or c.metadata @> $5::jsonb
group by p.chunk
order by score desc, p.chunk
limit $6
