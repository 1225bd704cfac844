insert into {{schema}}.pgvectors (index_id, chunk, embedding)
select $1, c::bigint, v::vector from unnest($2::text[], $3::text[]) as t(c, v)
on conflict (index_id, chunk) do update set embedding = excluded.embedding
