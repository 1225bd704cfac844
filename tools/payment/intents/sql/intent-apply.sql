-- Applies a provider snapshot of the intent's current attempt: the first one, or a newer sequence
-- of the same provider payment. Failed and canceled intents never move again.
update {{schema}}.intents
set status = $2, provider = $3, connector = $4, provider_payment_id = $5, provider_sequence = $6,
    amount_authorized = $7, amount_captured = $8, fee = $9, decline_code = $10, updated_at = now()
where id = $1
  and (provider_payment_id is null or (provider_payment_id = $5 and provider_sequence < $6))
  and status not in ('failed', 'canceled')
returning *
