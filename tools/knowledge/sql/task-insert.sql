insert into {{schema}}.tasks (id, project, kb, kind, state, progress, idempotency_key) values ($1, $2, $3, $4, 'queued', $5, $6)
on conflict (project, idempotency_key) where idempotency_key is not null do nothing
returning id::text as id
