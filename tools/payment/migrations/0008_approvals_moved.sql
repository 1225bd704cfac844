-- Approvals moved to the approvals plugin (tools/approvals), registered before payments: what was
-- recorded here is carried over unchanged, then this copy is dropped.
insert into "plugin_approvals".approvals (id, project, kind, subject, hash, state, summary, requested_by, decided_by, reason, created_at, decided_at)
select id, project, kind, subject, hash, state, summary, requested_by, decided_by, reason, created_at, decided_at from {{schema}}.approvals
on conflict do nothing;
drop table {{schema}}.approvals;
