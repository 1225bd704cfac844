insert into {{schema}}.deployment_history (project, name, by, action, detail) values ($1, $2, $3, $4, $5::jsonb)
