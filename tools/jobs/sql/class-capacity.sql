-- For one resource class: free slots on active workers that serve it, and how many of its running
-- jobs already have a preemption pending. $1 resource class
select
  coalesce((select sum(greatest(w.slots - (select count(*) from {{schema}}.jobs j where j.worker = w.id and j.state = 'running'), 0))
            from {{schema}}.workers w where w.state = 'active' and $1::text = any(w.resource_classes)), 0)::bigint as free_slots,
  (select count(*) from {{schema}}.jobs where state = 'running' and resource_class = $1::text and preempt_requested)::bigint as preempting
