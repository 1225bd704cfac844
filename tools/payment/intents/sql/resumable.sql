-- Work a crash or a lost answer may have left behind, oldest first: intents still processing,
-- captures requested but not applied, refunds not settled.
select 'intent' as kind, id, project from {{schema}}.intents
where status = 'processing' and updated_at < now() - make_interval(secs => $1)
union all
select 'capture', id, project from {{schema}}.intents
where status = 'requires_capture' and capture_requested is not null and updated_at < now() - make_interval(secs => $1)
union all
select 'refund', id, project from {{schema}}.refunds
where status = 'pending' and updated_at < now() - make_interval(secs => $1)
limit 100
