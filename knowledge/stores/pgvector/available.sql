select to_regclass('{{schema}}.pgvectors')::text as table
