-- Where a queued job stands in its class's queue: jobs ahead of it (higher priority, or equal and
-- older), how many of those are already dispatched, and — for the ETA only — all jobs ahead in
-- every project. Counts of other projects' work are never shown to the caller. $1 job id
select count(*) filter (where j.project = me.project)::bigint as ahead,
       count(*) filter (where j.project = me.project and j.dispatched_at is not null)::bigint as ahead_dispatched,
       count(*)::bigint as ahead_all
from {{schema}}.jobs j, (select project, resource_class, priority, seq from {{schema}}.jobs where id = $1::uuid) me
where j.state = 'queued' and j.resource_class = me.resource_class
  and (j.priority > me.priority or (j.priority = me.priority and j.seq < me.seq))
