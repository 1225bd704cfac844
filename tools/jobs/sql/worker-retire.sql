-- A worker leaving on purpose (shutdown): gone, with the jobs still running under it (which the
-- caller requeues). Idempotent. No row: unknown worker. $1 id
update {{schema}}.workers w set state = 'gone'
where w.id = $1::text
returning w.*, array(select j.id from {{schema}}.jobs j where j.worker = w.id and j.state = 'running' order by j.seq) as running_jobs
