-- One capture per intent: the first request fixes the amount; the same amount again is a retry.
update {{schema}}.intents set capture_requested = $3, updated_at = now()
where project = $1 and id = $2 and status = 'requires_capture' and (capture_requested is null or capture_requested = $3)
returning *
