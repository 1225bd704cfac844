-- Workers, optionally by state, with their running jobs. $1 states (null: all)
select w.*, array(select j.id from {{schema}}.jobs j where j.worker = w.id and j.state = 'running' order by j.seq) as running_jobs
from {{schema}}.workers w
where $1::text[] is null or w.state = any($1::text[])
order by w.name, w.id
