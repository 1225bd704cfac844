select c.id::text as id, c.document, c.text, c.metadata from {{schema}}.chunks c
where c.kb = $1 and not exists (select 1 from {{schema}}.vectors v where v.index_id = $2 and v.chunk = c.id)
order by c.id
