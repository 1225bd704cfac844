select count(*)::int as n from {{schema}}.vectors where index_id = $1
