update {{schema}}.intents set status = 'failed', decline_code = $2, updated_at = now()
where id = $1 and status in ('processing', 'requires_action')
returning *
