update {{schema}}.intents set preview = $3::jsonb, preview_hash = $4, updated_at = now()
where project = $1 and id = $2 and status = 'requires_confirmation'
returning *
