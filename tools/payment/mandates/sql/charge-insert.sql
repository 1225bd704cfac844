insert into {{schema}}.mandate_charges (intent_id, mandate_id, period_start, amount, state) values ($1, $2, $3, $4, 'reserved')
on conflict (intent_id) do nothing
returning intent_id
