update {{schema}}.intents set status = 'canceled', updated_at = now()
where project = $1 and id = $2 and status = 'requires_confirmation'
returning *
