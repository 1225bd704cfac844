-- GPU telemetry history for the workers page (utilisation, memory, temperature over time). The
-- `workers` row keeps only the latest heartbeat; here one row per GPU per sample, at most one sample
-- per worker every jobs.telemetrySampleMs, written in batches off the heartbeat path and deleted
-- after jobs.telemetryRetentionHours. No project column: a cluster's hardware is the operator's
-- (cluster:observe), never a project's. No foreign key: retention, not worker rows, bounds it.
create table {{schema}}.worker_samples (
  worker_id        text not null,
  gpu_index        integer not null,
  at               timestamptz not null,
  utilization_pct  real,
  memory_used_mb   real,
  temperature_c    real,
  primary key (worker_id, gpu_index, at)
);
-- Retention deletes by age; the history read ranges over time.
create index worker_samples_at_idx on {{schema}}.worker_samples (at);
