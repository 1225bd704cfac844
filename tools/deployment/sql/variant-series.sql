-- Per variant and time bucket since a moment: requests, errors, latency percentiles, abstentions
-- (the numbers of variant-stats.sql, per bucket). A bucket is $4 seconds, aligned to multiples of
-- $4 since the epoch, and named by its index: floor(epoch / $4).
-- $1 project, $2 deployment, $3 since, $4 bucket seconds
select variant, shadow, floor(extract(epoch from at) / $4::integer)::bigint as bucket,
       count(*)::integer as requests,
       count(*) filter (where error is not null)::integer as errors,
       percentile_cont(0.5) within group (order by latency_ms) as p50_ms,
       percentile_cont(0.99) within group (order by latency_ms) as p99_ms,
       count(*) filter (where abstained and error is null)::integer as abstained
  from {{schema}}.predictions
 where project = $1 and deployment = $2 and at >= $3
 group by variant, shadow, bucket
 order by variant, shadow, bucket
