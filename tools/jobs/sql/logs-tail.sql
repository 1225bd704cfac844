-- The newest lines whose message bytes fit the budget (the newest always comes back), oldest first.
-- $1 id, $2 max lines, $3 max bytes
select seq, at, level, message, running
from (
  select seq, at, level, message,
         sum(octet_length(message)) over (order by seq desc) as running,
         row_number() over (order by seq desc) as n
  from (
    select seq, at, level, message from {{schema}}.job_logs
    where job_id = $1::uuid
    order by seq desc
    limit $2::int
  ) page
) budgeted
where running <= $3::bigint or n = 1
order by seq
