-- The whole batch in one call and one round trip: see create_transfers() in migrations/0005 and 0010.
select * from {{schema}}.create_transfers($1, $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::text[], $9::text[], $10::integer[], $11::text[], $12)
