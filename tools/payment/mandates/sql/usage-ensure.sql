insert into {{schema}}.mandate_usage (mandate_id, period_start) values ($1, $2) on conflict do nothing
