-- Log rows of deployments that no longer exist (deployments_delete keeps them for a while: what it
-- answered stays auditable), once older than deletedRetentionDays ($1).
delete from {{schema}}.predictions p
 where p.at < now() - make_interval(days => $1::integer)
   and not exists (select 1 from {{schema}}.deployments d where d.project = p.project and d.name = p.deployment)
