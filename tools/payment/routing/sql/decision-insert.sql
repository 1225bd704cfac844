insert into {{schema}}.routing_decisions (id, project, intent_id, attempt, segment, rule, strategy, candidates, chosen, propensity)
values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
on conflict (intent_id, attempt) do nothing
returning *
