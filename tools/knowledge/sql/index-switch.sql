with old as (select active_index as id from {{schema}}.kbs where id = $1),
     ready as (update {{schema}}.indexes set state = 'ready', ready_at = now() where id = $2 and kb = $1),
     retired as (update {{schema}}.indexes set state = 'retired' where id = (select id from old) and id <> $2)
update {{schema}}.kbs set active_index = $2 where id = $1 returning (select id from old)::text as previous
