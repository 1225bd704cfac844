select c.id::text as id, c.document, c.version, c.page, c.start_char, c.end_char, c.heading, c.text
from {{schema}}.chunks c
where c.kb = $1 and c.id = any($2::bigint[])
