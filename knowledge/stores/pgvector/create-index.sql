create index if not exists {{name}} on {{schema}}.pgvectors using hnsw ((embedding::vector({{dimensions}})) vector_cosine_ops) where index_id = '{{index}}'
