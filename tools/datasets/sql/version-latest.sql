-- The newest version of a dataset in a project.
-- $1 project, $2 name
select * from {{schema}}.dataset_versions where project = $1::text and name = $2::text order by version desc limit 1
