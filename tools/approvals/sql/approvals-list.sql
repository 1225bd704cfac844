select * from {{schema}}.approvals where project = $1 and ($2::text is null or state = $2) and ($3::text is null or kind = $3)
order by created_at desc limit $4
