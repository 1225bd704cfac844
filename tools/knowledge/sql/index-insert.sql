insert into {{schema}}.indexes (id, kb, embedder, store, state, dimensions, model, vocabulary, trained_on) values ($1, $2, $3, $4, 'building', $5, $6, $7, $8)
