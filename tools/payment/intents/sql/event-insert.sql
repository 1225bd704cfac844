insert into {{schema}}.provider_events (provider, event_id, provider_payment_id, sequence, type, via, outcome)
values ($1, $2, $3, $4, $5, $6, 'received')
on conflict (provider, event_id) do nothing
returning event_id
