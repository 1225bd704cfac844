-- Log rows older than their deployment's retention (rows of deleted deployments: predictions-retention-deleted.sql).
delete from {{schema}}.predictions p
 using {{schema}}.deployments d
 where d.project = p.project and d.name = p.deployment
   and p.at < now() - make_interval(days => coalesce((d.logging ->> 'retentionDays')::integer, 30))
