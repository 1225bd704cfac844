-- Active workers whose lease ran out before $1 (null: the database's now), with their running jobs.
select w.*, array(select j.id from {{schema}}.jobs j where j.worker = w.id and j.state = 'running' order by j.seq) as running_jobs
from {{schema}}.workers w
where w.state = 'active' and w.lease_expires_at < coalesce($1::timestamptz, now())
order by w.lease_expires_at
