with gone as (
  select id::text as thread_id from {{schema}}.runs
  where status in ('succeeded', 'failed', 'rejected', 'canceled', 'planned') and coalesce(finished_at, updated_at) < now() - ($1::int * interval '1 day')
), writes as (delete from {{schema}}.checkpoint_writes w using gone where w.thread_id = gone.thread_id),
   blobs as (delete from {{schema}}.checkpoint_blobs b using gone where b.thread_id = gone.thread_id)
delete from {{schema}}.checkpoints c using gone where c.thread_id = gone.thread_id
