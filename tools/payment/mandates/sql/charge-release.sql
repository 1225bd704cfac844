-- Releases a failed or canceled payment's reservation, once.
with released as (
  update {{schema}}.mandate_charges set state = 'released' where intent_id = $1 and state = 'reserved'
  returning mandate_id, period_start, amount
)
update {{schema}}.mandate_usage u set used = u.used - r.amount
from released r where u.mandate_id = r.mandate_id and u.period_start = r.period_start
returning u.mandate_id
