-- Records a blob stored under its sha256; storing the same content again touches it (the garbage
-- collector leaves blobs touched within its grace period alone). Runs under blob-lock.sql.
-- $1 sha256, $2 size, $3 storage path
insert into {{schema}}.blobs (sha256, size, storage_path) values ($1::text, $2::bigint, $3::text)
on conflict (sha256) do update set last_used_at = now()
