-- Per variant since a moment: requests, errors, latency percentiles, batch sizes, abstentions.
select variant, shadow, min(model_version) as model_version, count(*)::integer as requests,
       count(*) filter (where error is not null)::integer as errors,
       percentile_cont(0.5) within group (order by latency_ms) as p50_ms,
       percentile_cont(0.99) within group (order by latency_ms) as p99_ms,
       avg(batch_size)::double precision as mean_batch,
       max(batch_size) as max_batch,
       count(*) filter (where abstained and error is null)::integer as abstained
  from {{schema}}.predictions
 where project = $1 and deployment = $2 and at >= $3
 group by variant, shadow
 order by variant, shadow
