select id, active_index::text as active_index from {{schema}}.kbs where id = $1 for update
