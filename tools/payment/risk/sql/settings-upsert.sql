-- $2 / $3 null: keep what is stored ($4: set deployment even when null, to switch scoring off).
insert into {{schema}}.risk_settings (project, deployment, unscored_review_above, updated_by)
values ($1, $2, coalesce($3::jsonb, '{}'::jsonb), $5)
on conflict (project) do update
set deployment = case when $4 then excluded.deployment else {{schema}}.risk_settings.deployment end,
    unscored_review_above = coalesce($3::jsonb, {{schema}}.risk_settings.unscored_review_above),
    updated_by = excluded.updated_by, updated_at = now()
returning deployment, unscored_review_above
