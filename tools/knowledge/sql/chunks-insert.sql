insert into {{schema}}.chunks (kb, document, version, ord, page, start_char, end_char, heading, text, metadata, length, terms)
select $1, t.document, t.version, t.ord, t.page, t.start_char, t.end_char, array(select jsonb_array_elements_text(t.heading)), t.text, t.metadata, t.length, array(select jsonb_array_elements_text(t.terms))
from jsonb_to_recordset($2::jsonb) as t(document text, version int, ord int, page int, start_char int, end_char int, heading jsonb, text text, metadata jsonb, length int, terms jsonb)
order by t.document, t.ord
returning id::text as id, document, ord
