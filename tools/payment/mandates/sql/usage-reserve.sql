-- The cap: only an update that keeps the period's total within it succeeds. Concurrent reservations
-- wait for this row's lock and re-check against the committed total, so together they never exceed it.
update {{schema}}.mandate_usage set used = used + $3
where mandate_id = $1 and period_start = $2 and used + $3 <= $4
returning used
