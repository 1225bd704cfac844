select id::text as id, embedder, store, state, dimensions, trained_on, created_at::text as created_at, ready_at::text as ready_at from {{schema}}.indexes where kb = $1 order by created_at
