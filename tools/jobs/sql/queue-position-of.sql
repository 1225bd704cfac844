-- Where a queued job stands in its class's queue (all projects): jobs ahead of it (higher priority,
-- or equal and older), and how many of those are already dispatched. $1 job id
select count(*)::bigint as ahead,
       count(*) filter (where j.dispatched_at is not null)::bigint as ahead_dispatched
from {{schema}}.jobs j, (select resource_class, priority, seq from {{schema}}.jobs where id = $1::uuid) me
where j.state = 'queued' and j.resource_class = me.resource_class
  and (j.priority > me.priority or (j.priority = me.priority and j.seq < me.seq))
