-- Locks the dataset row for the rest of the transaction: imports of one name take versions in turn.
-- $1 project, $2 name
select latest_version from {{schema}}.datasets where project = $1::text and name = $2::text for update
