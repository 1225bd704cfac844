delete from {{schema}}.kbs where project = $1 and name = $2 returning id
