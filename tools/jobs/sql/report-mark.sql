-- Records a report batch's id; no row when the job already took this batch (a retried report).
-- Committed asynchronously, as logs-append.sql explains. $1 job, $2 report id
update {{schema}}.jobs set last_report_id = $2::text
where id = $1::uuid and last_report_id is distinct from $2::text
  and set_config('synchronous_commit', 'off', true) is not null
returning id
