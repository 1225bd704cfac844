select c.id::text as id, c.document, c.version, c.page, c.start_char, c.end_char, c.heading, c.text, d.title, d.source
from {{schema}}.chunks c join {{schema}}.documents d on d.kb = c.kb and d.id = c.document
where c.kb = $1 and c.id = any($2::bigint[])
