select id::text as id, length from {{schema}}.chunks where kb = $1 and document = any($2::text[])
