-- Whether any dataset version (of any project) points at a blob.
-- $1 sha256
select exists (select 1 from {{schema}}.dataset_versions where sha256 = $1::text) as referenced
