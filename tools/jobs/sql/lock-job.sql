-- Locks a job for a state change decided in TypeScript within the same transaction; the lock is
-- held to commit, so the state read here is the state the change leaves. NO KEY UPDATE: inserts of
-- events, logs and metrics (their foreign keys) are not blocked by it.
-- $1 id, $2 project (null: any)
select id, state, worker, attempt, max_attempts, cancel_requested
from {{schema}}.jobs
where id = $1::uuid and ($2::text is null or project = $2::text)
for no key update
