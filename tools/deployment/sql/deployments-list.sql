select * from {{schema}}.deployments where project = $1 and ($2::text is null or name > $2) order by name limit $3
