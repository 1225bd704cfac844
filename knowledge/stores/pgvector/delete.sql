delete from {{schema}}.pgvectors where index_id = $1
