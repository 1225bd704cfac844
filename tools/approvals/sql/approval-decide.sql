update {{schema}}.approvals set state = $3, decided_by = $4, reason = $5, decided_at = now()
where project = $1 and id::text = $2 and state = 'pending'
returning *
