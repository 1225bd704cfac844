-- $1 project, $2 name, $3 the version just inserted
update {{schema}}.datasets set latest_version = $3::integer, updated_at = now() where project = $1::text and name = $2::text
