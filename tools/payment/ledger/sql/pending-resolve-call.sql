-- Post or void in one call and one round trip: see resolve_pending() in migrations/0007.
select * from {{schema}}.resolve_pending($1, $2::uuid, $3, $4::numeric, $5::uuid, $6, $7, $8, $9)
