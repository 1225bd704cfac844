-- Appends a batch of log lines with consecutive seq numbers. The counter on the job row is bumped
-- and the lines inserted in one statement: concurrent appenders queue on the row lock, so numbers
-- are unique and without gaps, and readers only ever see a prefix 1..n. No row: no such job.
-- $1 id, $2 line count, $3 levels, $4 messages, $5 times (null elements: now)
-- Committed asynchronously (synchronous_commit off for this one statement), as the claim is: a
-- report does not wait for its WAL flush. The finish that ends the job commits synchronously, and
-- flushing the WAL up to it flushes every report written before it, so a finished job's logs and
-- metrics are as durable as before; a database crash loses at most the last fraction of a second of
-- a running job's lines (with its report mark, so nothing is counted twice). Checkpoints are saved
-- synchronously (checkpoint-save.sql): a retry resumes from them.
with counter as (
  update {{schema}}.jobs set log_seq = log_seq + $2::int
  where id = $1::uuid
  returning log_seq - $2::int as base
), inserted as (
  insert into {{schema}}.job_logs (job_id, seq, at, level, message)
  select $1::uuid, c.base + l.n, coalesce(l.at, now()), l.level, l.message
  from counter c,
       unnest($3::text[], $4::text[], $5::timestamptz[]) with ordinality as l(level, message, at, n)
  returning seq
)
select c.base, (select count(*) from inserted) as count from counter c, set_config('synchronous_commit', 'off', true)
