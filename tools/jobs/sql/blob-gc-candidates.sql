-- Blobs untouched for the grace period that no artifact and no job input of the jobs plugin names,
-- oldest first. Other plugins' references (dataset versions, …) are checked by their own sources.
-- $1 grace (ms), $2 limit
select b.sha256 from {{schema}}.blobs b
where b.last_used_at < now() - make_interval(secs => $1::float8 / 1000)
  and not exists (select 1 from {{schema}}.artifacts a where a.sha256 = b.sha256)
  and not exists (select 1 from {{schema}}.jobs j where j.inputs @> jsonb_build_array(jsonb_build_object('sha256', b.sha256)))
order by b.last_used_at
limit $2::int
