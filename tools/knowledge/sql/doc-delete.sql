delete from {{schema}}.documents where kb = $1 and id = $2 returning id
