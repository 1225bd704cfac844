select m.*, coalesce(u.used, 0)::text as used_this_period, m.expires_at <= now() as expired,
       case m.period when 'total' then 'epoch'::timestamptz else date_trunc(m.period, now() at time zone 'UTC') at time zone 'UTC' end as current_period
from {{schema}}.mandates m
left join {{schema}}.mandate_usage u on u.mandate_id = m.id
  and u.period_start = case m.period when 'total' then 'epoch'::timestamptz else date_trunc(m.period, now() at time zone 'UTC') at time zone 'UTC' end
where m.project = $1 and m.id::text = $2
