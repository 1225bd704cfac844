-- $1 query vector, $2 metadata filter (jsonb or null), $3 limit
select v.chunk::text as id, (v.embedding::vector({{dimensions}}) <=> $1::vector({{dimensions}}))::float8 as distance
from {{schema}}.pgvectors v
where v.index_id = '{{index}}'
  and ($2::jsonb is null or exists (select 1 from {{schema}}.chunks c where c.id = v.chunk and c.metadata @> $2::jsonb))
order by v.embedding::vector({{dimensions}}) <=> $1::vector({{dimensions}})
limit $3
