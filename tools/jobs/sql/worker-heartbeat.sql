-- Extends an active worker's lease and records its telemetry. No row: the worker is unknown or
-- not active (the caller reads which). $1 id, $2 telemetry, $3 lease (ms)
update {{schema}}.workers set
  last_heartbeat = now(),
  lease_expires_at = now() + make_interval(secs => $3::float8 / 1000),
  telemetry = $2::jsonb
where id = $1::text and state = 'active'
returning *
