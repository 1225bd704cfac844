-- queued → running, as move-job.sql, but committed asynchronously (synchronous_commit off for this
-- one transaction): the claim does not wait for its WAL flush, which under load was half of a
-- job's dispatch time. A claim lost to a database crash (the last fraction of a second before it)
-- leaves the job queued and admitted: the worker's finish is then refused by the fencing, and the
-- reconcile sweep hands the job to BullMQ again, so it runs again (at least once, as BullMQ's own
-- delivery is). Finishing, submitting and cancelling stay synchronous. Same parameters as move-job.sql.
select moved, now_state, now_worker, now_attempt, job, dependents
from {{schema}}.move_job($1::uuid, $2::text[], $3::text, $4::text, $5::jsonb, $6::jsonb, $7::jsonb, $8::int, $9::text, $10::jsonb, $11::float8, $12::text, $13::int, $14::text),
  set_config('synchronous_commit', 'off', true)
