select * from {{schema}}.attempts where intent_id = $1 order by number
