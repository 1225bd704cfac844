-- Chunks written after a build read its snapshot (ids only grow), to embed before the switch.
select c.id::text as id, c.document, c.text, c.metadata from {{schema}}.chunks c
where c.kb = $1 and c.id > $2::bigint
order by c.id
