-- Chunks written after a build read its snapshot (ids only grow), to embed before the switch.
select c.id::text as id, c.document, c.text, c.heading, c.metadata, d.title, d.metadata as document_metadata
from {{schema}}.chunks c join {{schema}}.documents d on d.kb = c.kb and d.id = c.document
where c.kb = $1 and c.id > $2::bigint
order by c.id
