insert into {{schema}}.risk_models (project, deployment, model, model_version, review_threshold, decline_threshold, pr_auc, evaluation, created_by)
values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
on conflict (project, deployment, model, model_version) do update
set review_threshold = excluded.review_threshold, decline_threshold = excluded.decline_threshold, pr_auc = excluded.pr_auc,
    evaluation = excluded.evaluation, created_by = excluded.created_by, created_at = now()
