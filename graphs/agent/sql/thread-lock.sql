select memory from {{schema}}.threads where project = $1 and thread_id = $2 for update
