insert into {{schema}}.runs (id, project, thread_id, command, planner, plan, status, dry_run, principal, requested_by, approval_required)
values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10, $11::jsonb)
returning *
