select * from {{schema}}.refunds where intent_id = $1 order by created_at, id
