-- Of the given blobs, those a dataset version (of any project) points at: the blob garbage
-- collector keeps them. $1 sha256s
select distinct sha256 from {{schema}}.dataset_versions where sha256 = any($1::text[])
