delete from {{schema}}.sessions where id_hash = $1
