-- The `pgvector` store's table, created only where the extension exists (embedded PGlite loads it;
-- a Postgres may or may not have it — Debian 12's has not). Elsewhere the `pgarray` store serves
-- the dense leg. One partial HNSW index per dense index is created by the store (its dimension is
-- fixed per index).
do $$
begin
  begin
    create extension if not exists vector;
  exception when others then
    return;
  end;
  execute 'create table if not exists {{schema}}.pgvectors (
    index_id  uuid not null references {{schema}}.indexes (id) on delete cascade,
    chunk     bigint not null references {{schema}}.chunks (id) on delete cascade,
    embedding vector not null,
    primary key (index_id, chunk))';
  execute 'create index if not exists pgvectors_chunk on {{schema}}.pgvectors (chunk)';
end $$;
