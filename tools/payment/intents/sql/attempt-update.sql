update {{schema}}.attempts set status = $2, decline_code = $3, soft_decline = $4, provider_payment_id = $5, updated_at = now()
where id = $1
