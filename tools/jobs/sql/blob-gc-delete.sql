-- Deletes one collected blob's row if it is still unreferenced and untouched (checked again under
-- blob-lock.sql: a store since the candidates were chosen keeps it). $1 sha256, $2 grace (ms)
delete from {{schema}}.blobs b
where b.sha256 = $1::text
  and b.last_used_at < now() - make_interval(secs => $2::float8 / 1000)
  and not exists (select 1 from {{schema}}.artifacts a where a.sha256 = b.sha256)
  and not exists (select 1 from {{schema}}.jobs j where j.inputs @> jsonb_build_array(jsonb_build_object('sha256', b.sha256)))
returning b.storage_path
