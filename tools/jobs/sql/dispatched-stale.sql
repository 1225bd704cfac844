-- Queued jobs handed to BullMQ more than $1 ms ago and still not started: the sweep checks that their
-- BullMQ job exists (it re-adds lost ones). $1 age (ms), $2 limit
select id, project, resource_class, priority, dispatch_seq, resources from {{schema}}.jobs
where state = 'queued' and dispatched_at is not null and dispatched_at < now() - make_interval(secs => $1::float8 / 1000)
order by dispatched_at
limit $2::int
