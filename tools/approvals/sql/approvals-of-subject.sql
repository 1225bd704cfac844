select * from {{schema}}.approvals where project = $1 and kind = $2 and subject = $3 order by created_at desc limit 20
