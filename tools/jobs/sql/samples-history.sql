-- GPU telemetry since $1, averaged into buckets of $2 seconds (the downsampling), for the worker
-- named $3 (null: every worker). Buckets are aligned to the epoch so that a re-read keeps its points.
select w.name as worker, s.worker_id, s.gpu_index,
  to_timestamp(floor(extract(epoch from s.at) / $2::float8) * $2::float8) as bucket,
  avg(s.utilization_pct)::float8 as utilization_pct,
  avg(s.memory_used_mb)::float8 as memory_used_mb,
  avg(s.temperature_c)::float8 as temperature_c,
  count(*)::int as samples
from {{schema}}.worker_samples s
join {{schema}}.workers w on w.id = s.worker_id
where s.at >= $1::timestamptz and ($3::text is null or w.name = $3::text)
group by w.name, s.worker_id, s.gpu_index, bucket
order by w.name, s.worker_id, s.gpu_index, bucket
