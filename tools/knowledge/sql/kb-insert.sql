insert into {{schema}}.kbs (id, project, name, embedder, chunking, fusion) values ($1, $2, $3, $4, $5, $6)
on conflict (project, name) do nothing
