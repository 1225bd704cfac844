-- Records a blob stored under its sha256 (a second upload of the same content is a no-op).
-- $1 sha256, $2 size, $3 storage path
insert into {{schema}}.blobs (sha256, size, storage_path) values ($1::text, $2::bigint, $3::text)
on conflict (sha256) do nothing
