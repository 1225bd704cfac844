select id::text as id, document from {{schema}}.chunks where kb = $1 and id = any($2::bigint[])
