update {{schema}}.deployments
   set variants = $3::jsonb, batching = $4::jsonb, logging = $5::jsonb, threshold = $6, rollout = $7::jsonb, shadow = $8::jsonb,
       follow_alias = $9, generation = generation + 1, updated_at = now()
 where project = $1 and name = $2
returning *
