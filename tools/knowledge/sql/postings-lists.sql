-- A knowledge base's postings as one list per term, for the in-memory BM25 copy (lexical.ts).
-- Chunk ids as float8: exact below 2^53, and parsed as numbers.
select term, array_agg(chunk::float8 order by chunk) as chunks, array_agg(tf order by chunk) as tfs, array_agg(length order by chunk) as lengths
from {{schema}}.postings where kb = $1 group by term
