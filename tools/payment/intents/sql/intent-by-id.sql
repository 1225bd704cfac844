select * from {{schema}}.intents where id = $1
