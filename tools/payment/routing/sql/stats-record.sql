-- Counts one outcome and keeps the last 20 in `recent`.
insert into {{schema}}.routing_stats (project, segment, connector, successes, failures, recent)
values ($1, $2, $3, $4, 1 - $4, array[$4::smallint])
on conflict (project, segment, connector) do update
set successes = routing_stats.successes + $4, failures = routing_stats.failures + 1 - $4,
    recent = (routing_stats.recent || $4::smallint)[greatest(1, cardinality(routing_stats.recent) - 18):]
