insert into {{schema}}.approvals (id, project, kind, subject, hash, state, summary, requested_by)
values ($1, $2, $3, $4, $5, 'pending', $6::jsonb, $7)
on conflict (project, kind, subject, hash) do update set kind = excluded.kind
returning *
