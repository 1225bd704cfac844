-- Deployments the controller looks after: a rollout under way, or an alias to follow.
select project, name from {{schema}}.deployments
 where (rollout is not null and rollout ->> 'state' in ('progressing', 'paused', 'awaiting-approval')) or follow_alias
