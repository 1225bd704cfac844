-- $1 dataset version id
select * from {{schema}}.dataset_versions where id = $1::uuid
