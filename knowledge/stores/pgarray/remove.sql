delete from {{schema}}.vectors where index_id = $1 and chunk = any($2::bigint[])
