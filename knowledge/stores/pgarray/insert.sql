-- $1 index, $2 chunk ids, $3 vectors as real[] literals
insert into {{schema}}.vectors (index_id, chunk, vec)
select $1, c::bigint, v::real[] from unnest($2::text[], $3::text[]) as t(c, v)
on conflict (index_id, chunk) do update set vec = excluded.vec
