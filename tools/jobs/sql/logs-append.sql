-- Appends a batch of log lines with consecutive seq numbers. The counter on the job row is bumped
-- and the lines inserted in one statement: concurrent appenders queue on the row lock, so numbers
-- are unique and without gaps, and readers only ever see a prefix 1..n. No row: no such job.
-- $1 id, $2 line count, $3 levels, $4 messages, $5 times (null elements: now)
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
select c.base, (select count(*) from inserted) as count from counter c
