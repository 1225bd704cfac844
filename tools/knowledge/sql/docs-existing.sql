select id, sha256, version from {{schema}}.documents where kb = $1 and id = any($2::text[])
