-- $1 project, $2 name, $3 version
select * from {{schema}}.dataset_versions where project = $1::text and name = $2::text and version = $3::integer
