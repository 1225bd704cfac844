-- Median run time of the last succeeded jobs of a recipe on a class (for ETAs). $1 class, $2 recipe
select percentile_cont(0.5) within group (order by extract(epoch from (finished_at - started_at)) * 1000) as median_ms, count(*)::bigint as n
from (select finished_at, started_at from {{schema}}.jobs
      where state = 'succeeded' and resource_class = $1::text and recipe = $2::text and started_at is not null
      order by finished_at desc limit 50) recent
