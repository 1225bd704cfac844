update {{schema}}.runs set status = 'canceled', updated_at = now(), finished_at = now()
where project = $1 and id::text = $2 and status not in ('succeeded', 'failed', 'rejected', 'canceled', 'planned')
returning *
