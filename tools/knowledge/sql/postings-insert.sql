insert into {{schema}}.postings (kb, term, chunk, tf, length)
select $1, term, chunk, tf, length from unnest($2::text[], $3::bigint[], $4::int[], $5::int[]) as t(term, chunk, tf, length)
