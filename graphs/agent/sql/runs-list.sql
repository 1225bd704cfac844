select * from {{schema}}.runs
where project = $1 and ($2::text is null or thread_id = $2) and ($3::text is null or status = $3)
  and ($4::timestamptz is null or (created_at, id) < ($4::timestamptz, $5::uuid))
order by created_at desc, id desc limit $6
