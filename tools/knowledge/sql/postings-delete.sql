delete from {{schema}}.postings where kb = $1 and chunk = any($2::bigint[])
