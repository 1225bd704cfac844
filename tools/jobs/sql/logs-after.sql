-- Lines after a seq, oldest first, while their message bytes fit the budget; the first line always
-- comes back (the caller cuts it when it alone is over budget), so paging always moves on.
-- Only lines within the budget leave the database. $1 id, $2 after seq, $3 max lines, $4 max bytes
select seq, at, level, message, running
from (
  select seq, at, level, message,
         sum(octet_length(message)) over (order by seq) as running,
         row_number() over (order by seq) as n
  from (
    select seq, at, level, message from {{schema}}.job_logs
    where job_id = $1::uuid and seq > $2::bigint
    order by seq
    limit $3::int
  ) page
) budgeted
where running <= $4::bigint or n = 1
order by seq
