-- Projects with queued jobs not yet in BullMQ whose backoff has passed: the sweep admits them.
-- $1 limit
select distinct project from {{schema}}.jobs
where state = 'queued' and dispatched_at is null and (not_before is null or not_before <= now())
limit $1::int
