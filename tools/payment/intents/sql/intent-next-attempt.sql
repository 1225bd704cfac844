-- A new attempt becomes the intent's current one: the previous (declined) payment no longer applies.
update {{schema}}.intents set provider_payment_id = null, provider_sequence = 0, connector = $2, provider = $3, updated_at = now()
where id = $1 and status = 'processing'
returning *
