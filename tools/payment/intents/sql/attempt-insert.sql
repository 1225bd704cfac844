insert into {{schema}}.attempts (id, intent_id, project, number, provider, connector, idempotency_key, status)
values ($1, $2, $3, $4, $5, $6, $7, 'sent')
on conflict do nothing
returning *
