select id, status from {{schema}}.runs
where status in ('running', 'waiting_approval') and (lease_until is null or lease_until < now())
order by updated_at limit $1
