insert into {{schema}}.feedback (project, request_id, deployment, variant, model_version, label, reward, predicted, correct, input, by)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)
on conflict (project, request_id) do nothing
returning *
