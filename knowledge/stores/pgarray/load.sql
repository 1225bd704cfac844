select chunk::text as chunk, vec from {{schema}}.vectors where index_id = $1 order by chunk
