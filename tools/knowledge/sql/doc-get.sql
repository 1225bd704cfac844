select id, version, sha256, format, source, title, text, pages from {{schema}}.documents where kb = $1 and id = $2
