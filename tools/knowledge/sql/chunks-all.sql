select id::text as id, document, text, metadata from {{schema}}.chunks where kb = $1 and id > $2 order by id limit $3
