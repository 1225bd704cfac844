-- A job's metric points by name, then step. $1 id, $2 name (null: all)
select name, step, value, at from {{schema}}.job_metrics
where job_id = $1::uuid and ($2::text is null or name = $2::text)
order by name, step
