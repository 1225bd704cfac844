-- Where a queued job stands in its class: jobs ahead of it (higher priority, or equal and older).
-- $1 class, $2 priority, $3 seq
select count(*)::bigint as ahead from {{schema}}.jobs
where state = 'queued' and resource_class = $1::text and (priority > $2::int or (priority = $2::int and seq < $3::bigint))
