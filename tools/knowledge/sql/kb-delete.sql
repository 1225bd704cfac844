with kb as (select id from {{schema}}.kbs where project = $1 and name = $2),
     postings as (delete from {{schema}}.postings p using kb where p.kb = kb.id)
delete from {{schema}}.kbs k using kb where k.id = kb.id returning k.id
