-- A state change in one round trip (migrations/0006_move_job.sql): lock, check, update, event.
-- $1 id, $2 from states, $3 to, $4 worker (running: the claimer; queued: cleared; elsewhere null
-- keeps it), $5 checkpoint, $6 result, $7 error (null: keep), $8 attempts to add, $9 reason,
-- $10 event details, $11 not before (ms from now; queued only, null: at once), $12 expected worker,
-- $13 expected attempt, $14 project (null: any)
select moved, now_state, now_worker, now_attempt, job, dependents
from {{schema}}.move_job($1::uuid, $2::text[], $3::text, $4::text, $5::jsonb, $6::jsonb, $7::jsonb, $8::int, $9::text, $10::jsonb, $11::float8, $12::text, $13::int, $14::text)
