-- A page of a knowledge base's chunks with what the dense leg embeds of them (name field, heading path, text).
select c.id::text as id, c.document, c.text, c.heading, c.metadata, d.title, d.metadata as document_metadata
from {{schema}}.chunks c join {{schema}}.documents d on d.kb = c.kb and d.id = c.document
where c.kb = $1 and c.id > $2 order by c.id limit $3
