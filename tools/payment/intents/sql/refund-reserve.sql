-- Reserves a refund against what was captured and not yet refunded or reserved: concurrent refunds
-- can never add up to more than the capture (the table's check constraint says so too).
update {{schema}}.intents set refund_reserved = refund_reserved + $3, updated_at = now()
where project = $1 and id = $2 and status = 'succeeded' and amount_captured - amount_refunded - refund_reserved >= $3
returning *
