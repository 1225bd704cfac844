insert into {{schema}}.postings (kb, term, chunk, tf)
select $1, term, chunk, tf from unnest($2::text[], $3::bigint[], $4::int[]) as t(term, chunk, tf)
