select id from {{schema}}.kbs where id = $1 for update
