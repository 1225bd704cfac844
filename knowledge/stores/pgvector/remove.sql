delete from {{schema}}.pgvectors where index_id = $1 and chunk = any($2::bigint[])
