insert into {{schema}}.deployments (project, name, model, alias, follow_alias, variants, batching, logging, threshold, created_by)
values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10)
on conflict (project, name) do nothing
returning *
