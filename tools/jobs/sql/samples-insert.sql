-- A batch of GPU telemetry samples (one row per GPU). A repeated (worker, gpu, at) is kept once.
-- $1 worker ids, $2 gpu indexes, $3 times, $4 utilisation %, $5 memory used MB, $6 temperature °C
insert into {{schema}}.worker_samples (worker_id, gpu_index, at, utilization_pct, memory_used_mb, temperature_c)
select * from unnest($1::text[], $2::int[], $3::timestamptz[], $4::real[], $5::real[], $6::real[])
on conflict do nothing
