select id, kb, embedder, store, state, dimensions, model, vocabulary, trained_on, created_at::text as created_at, ready_at::text as ready_at from {{schema}}.indexes where id = $1
