select count(*)::int as n from {{schema}}.pgvectors where index_id = $1
