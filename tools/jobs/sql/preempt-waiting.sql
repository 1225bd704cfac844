-- Jobs in BullMQ for longer than $1 ms without a worker, highest priority first, per resource class.
-- $1 wait (ms), $2 limit
select id, project, resource_class, priority, resources from {{schema}}.jobs
where state = 'queued' and dispatched_at is not null and dispatched_at < now() - make_interval(secs => $1::float8 / 1000)
order by priority desc, seq
limit $2::int
