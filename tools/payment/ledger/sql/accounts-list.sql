-- Keyset pagination by code; optional filters are null when unused.
select * from {{schema}}.accounts
where project = $1
  and ($2::text is null or currency = $2)
  and ($3::text is null or kind = $3)
  and ($4::text is null or code > $4)
  and ($6::text is null or code like $6 || '%')
order by code
limit $5
