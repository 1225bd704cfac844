delete from {{schema}}.terms where kb = $1 and df <= 0
