delete from {{schema}}.chunks where kb = $1 and document = any($2::text[])
