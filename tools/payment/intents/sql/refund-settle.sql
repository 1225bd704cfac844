-- Settles a pending refund once: succeeded moves its amount from reserved to refunded, failed releases it.
with settled as (
  update {{schema}}.refunds set status = $2, provider_refund_id = coalesce($3, provider_refund_id), updated_at = now()
  where id = $1 and status = 'pending'
  returning intent_id, amount
)
update {{schema}}.intents i
set refund_reserved = i.refund_reserved - s.amount,
    amount_refunded = i.amount_refunded + case when $2 = 'succeeded' then s.amount else 0 end,
    updated_at = now()
from settled s
where i.id = s.intent_id
returning i.id
