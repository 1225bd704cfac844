-- The latest logged answer of a deployment (any server) within the last $3 seconds; null: none.
select max(at) as at from {{schema}}.predictions
 where project = $1 and deployment = $2 and shadow = false and at > now() - make_interval(secs => $3::integer)
