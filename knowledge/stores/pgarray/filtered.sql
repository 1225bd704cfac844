select id::text as id from {{schema}}.chunks where kb = $1 and metadata @> $2::jsonb
