-- Stores the risk assessment with a payment awaiting confirmation; a decline fails it at once.
update {{schema}}.intents
set risk = $3::jsonb,
    status = case when $4 then 'failed' else status end,
    decline_code = case when $4 then 'risk_declined' else decline_code end,
    updated_at = now()
where project = $1 and id = $2 and status = 'requires_confirmation'
returning *
