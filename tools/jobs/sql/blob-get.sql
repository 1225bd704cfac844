-- $1 sha256
select sha256, size, storage_path from {{schema}}.blobs where sha256 = $1::text
