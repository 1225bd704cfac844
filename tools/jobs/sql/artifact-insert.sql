-- Records a job's artifact (the blob must exist). Uploading the same name again with the same
-- content is a no-op; with other content it replaces the record (a retried attempt re-exports).
-- $1 id, $2 job, $3 name, $4 sha256, $5 size, $6 media type, $7 storage path
insert into {{schema}}.artifacts (id, job_id, name, sha256, size, media_type, storage_path)
values ($1::uuid, $2::uuid, $3::text, $4::text, $5::bigint, $6::text, $7::text)
on conflict (job_id, name) do update set
  sha256 = excluded.sha256, size = excluded.size, media_type = excluded.media_type,
  storage_path = excluded.storage_path, created_at = now()
returning id, job_id, name, sha256, size, media_type, created_at
