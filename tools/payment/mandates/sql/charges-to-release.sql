select c.intent_id from {{schema}}.mandate_charges c
join {{schema}}.intents i on i.id = c.intent_id
where c.state = 'reserved' and i.status in ('failed', 'canceled')
limit 200
