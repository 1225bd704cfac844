-- Mirrored requests: how often the shadow answered the same label, and both latencies.
select count(*)::integer as pairs,
       count(*) filter (where s.top_label is not distinct from p.top_label)::integer as agree,
       avg(p.latency_ms)::double precision as primary_ms, avg(s.latency_ms)::double precision as shadow_ms
  from {{schema}}.predictions s
  join {{schema}}.predictions p on p.project = s.project and p.request_id = s.request_id and not p.shadow
 where s.project = $1 and s.deployment = $2 and s.shadow and s.at >= $3
