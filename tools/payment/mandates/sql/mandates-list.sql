-- A project's mandates, newest first, after a keyset cursor (created_at, id).
-- $1 project, $2 grantee (null: all), $3 before created_at, $4 before id (null: from the newest), $5 limit
select m.*, m.created_at::text as created_text, coalesce(u.used, 0)::text as used_this_period, m.expires_at <= now() as expired
from {{schema}}.mandates m
left join {{schema}}.mandate_usage u on u.mandate_id = m.id
  and u.period_start = case m.period when 'total' then 'epoch'::timestamptz else date_trunc(m.period, now() at time zone 'UTC') at time zone 'UTC' end
where m.project = $1 and ($2::text is null or m.grantee = $2)
  and ($3::timestamptz is null or (m.created_at, m.id) < ($3::timestamptz, $4::uuid))
order by m.created_at desc, m.id desc
limit $5
