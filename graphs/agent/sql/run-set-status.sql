update {{schema}}.runs set status = $2, error = coalesce($3::jsonb, error), updated_at = now(),
  finished_at = case when $2 in ('succeeded', 'failed', 'rejected', 'canceled') then now() else finished_at end
where id = $1 and status not in ('succeeded', 'failed', 'rejected', 'canceled')
returning *
