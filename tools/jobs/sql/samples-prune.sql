-- Retention: samples older than $1 seconds (on the database's clock) go.
delete from {{schema}}.worker_samples where at < now() - make_interval(secs => $1::float8)
