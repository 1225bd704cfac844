-- One atomic take: refill by the time since the last take (on the database clock), then take one
-- token if there is one. Concurrent takes on one key serialize on its row; a take that waited for
-- the lock never counts time backwards (greatest(...)). $1 key, $2 capacity, $3 refill per second.
insert into {{schema}}.buckets as b (key, tokens, updated_at, full_at, allowed)
select $1::text, $2::float8 - 1, c.now, c.now + make_interval(secs => 1 / $3::float8), true
from (select clock_timestamp() as now) c
on conflict (key) do update set (tokens, allowed, updated_at, full_at) = (
  select s.tokens, s.allowed, s.at, s.at + make_interval(secs => ($2::float8 - s.tokens) / $3::float8)
  from (
    select case when r.tokens >= 1 then r.tokens - 1 else r.tokens end as tokens, r.tokens >= 1 as allowed, r.at
    from (
      select least($2::float8, b.tokens + greatest(0, extract(epoch from (excluded.updated_at - b.updated_at)))::float8 * $3::float8) as tokens,
             greatest(b.updated_at, excluded.updated_at) as at
    ) r
  ) s
)
returning tokens, allowed
