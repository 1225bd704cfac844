select * from {{schema}}.approvals where project = $1 and id::text = $2
