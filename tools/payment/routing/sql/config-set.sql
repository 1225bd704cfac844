insert into {{schema}}.routing_configs (project, config, updated_by) values ($1, $2::jsonb, $3)
on conflict (project) do update set config = excluded.config, updated_by = excluded.updated_by, updated_at = now()
