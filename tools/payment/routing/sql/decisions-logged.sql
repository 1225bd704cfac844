select candidates, chosen, propensity, outcome, segment from {{schema}}.routing_decisions
where project = $1 and outcome is not null and ($2::timestamptz is null or created_at >= $2)
order by created_at
limit 100000
