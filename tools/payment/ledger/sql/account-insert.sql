insert into {{schema}}.accounts (id, project, code, kind, currency, flags, metadata, request_hash)
values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
on conflict (project, code) do nothing
returning *
