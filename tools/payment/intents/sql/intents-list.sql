select *, created_at::text as created_text from {{schema}}.intents
where project = $1
  and ($2::text is null or status = $2)
  and ($3::text is null or payee = $3)
  and ($4::timestamptz is null or (created_at, id) < ($4::timestamptz, $5::uuid))
order by created_at desc, id desc
limit $6
