-- Marks an active worker lost, only if its lease ran out before $2 (null: the database's now). One
-- update statement: of several sweepers exactly one gets the row (the others re-check the row the
-- winner left, no longer active), and a heartbeat that arrived first keeps the worker.
-- No row: not marked (the caller reads why). $1 id, $2 now
update {{schema}}.workers w set state = 'lost'
where w.id = $1::text and w.state = 'active' and w.lease_expires_at < coalesce($2::timestamptz, now())
returning w.*, array(select j.id from {{schema}}.jobs j where j.worker = w.id and j.state = 'running' order by j.seq) as running_jobs
