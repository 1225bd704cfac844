-- Records a running job's latest checkpoint, only while this worker holds this attempt (a stale
-- worker's report changes nothing). Not a state change, so no event. $1 id, $2 worker, $3 attempt, $4 checkpoint
update {{schema}}.jobs set checkpoint = $4::jsonb, updated_at = now()
where id = $1::uuid and state = 'running' and worker = $2::text and attempt = $3::int
