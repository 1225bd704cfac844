-- Inserts a job and its 'submitted' event in one statement. With an idempotency key already used in
-- the project nothing is inserted and no row comes back (a concurrent submit with the same key waits
-- for the first to commit, then finds the key taken); the caller then reads the existing job.
-- $1 id, $2 project, $3 recipe, $4 params, $5 resources, $6 resource class, $7 priority,
-- $8 max attempts, $9 idempotency key (null: none), $10 depends on (sorted), $11 timeout (ms), $12 inputs,
-- $13 dispatch at once (admitted with the insert: nothing could hold it back)
with inserted as (
  insert into {{schema}}.jobs (id, project, recipe, params, resources, resource_class, priority, max_attempts, idempotency_key, depends_on, timeout_ms, inputs,
                               dispatched_at, dispatch_seq)
  values ($1::uuid, $2::text, $3::text, $4::jsonb, $5::jsonb, $6::text, $7::int, $8::int, $9::text, $10::uuid[], $11::int, $12::jsonb,
          case when $13::boolean then now() end, case when $13::boolean then 1 else 0 end)
  on conflict (project, idempotency_key) do nothing
  returning *
), event as (
  insert into {{schema}}.job_events (job_id, from_state, to_state, reason, details)
  select id, null, state, 'submitted', jsonb_build_object('resourceClass', resource_class, 'priority', priority)
  from inserted
)
select * from inserted
