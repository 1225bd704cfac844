-- Every change of a knowledge base's postings goes through here: the revision tells in-memory copies they are stale.
update {{schema}}.kbs set chunk_count = chunk_count + $2, token_count = token_count + $3, lexical_revision = lexical_revision + 1 where id = $1
