-- What the project has seen of this card token before this payment: attempts in the last hour and
-- the first time it was used (the card's age as far as this merchant knows).
select count(*) filter (where created_at > now() - interval '1 hour')::int as attempts_last_hour,
       min(created_at) as first_seen
from {{schema}}.intents
where project = $1 and method ->> 'token' = $2 and id <> $3
