-- Knowledge bases (plugin `knowledge`, schema plugin_knowledge). Every row hangs off a knowledge
-- base, and every read goes through kbs.project: another project's knowledge base does not exist.

create table {{schema}}.kbs (
  id           uuid primary key,
  project      text not null,
  name         text not null,
  -- {kind: 'builtin', dimensions} | {kind: 'openai', url, model, apiKeyEnv?} | {kind: 'plugin', name}
  embedder     jsonb not null,
  chunking     jsonb not null,
  -- {method: 'rrf'|'weighted', k, weights: {lexical, dense}, tunedAt?}
  fusion       jsonb not null,
  -- The dense index searches use; switched atomically by a finished (re)index.
  active_index uuid,
  -- BM25 statistics over chunks: N and Σ length (avgdl = token_count / chunk_count).
  chunk_count  integer not null default 0,
  token_count  bigint not null default 0,
  created_at   timestamptz not null default now(),
  unique (project, name)
);

create table {{schema}}.documents (
  kb          uuid not null references {{schema}}.kbs (id) on delete cascade,
  id          text not null,
  version     integer not null,
  sha256      text not null,
  format      text not null,
  source      text not null,
  title       text,
  metadata    jsonb not null,
  -- The extracted text: chunks and citations are slices of it.
  text        text not null,
  pages       jsonb,
  chunk_count integer not null,
  updated_at  timestamptz not null default now(),
  primary key (kb, id)
);

create table {{schema}}.chunks (
  id         bigserial primary key,
  kb         uuid not null references {{schema}}.kbs (id) on delete cascade,
  document   text not null,
  version    integer not null,
  ord        integer not null,
  page       integer,
  start_char integer not null,
  end_char   integer not null,
  heading    text[] not null,
  text       text not null,
  metadata   jsonb not null,
  -- Tokens (BM25's document length).
  length     integer not null,
  foreign key (kb, document) references {{schema}}.documents (kb, id) on delete cascade
);
create index chunks_document on {{schema}}.chunks (kb, document);
create index chunks_metadata on {{schema}}.chunks using gin (metadata jsonb_path_ops);

-- The lexical index: term → chunk with its frequency, and each term's document frequency per
-- knowledge base. BM25 is computed from these (k1 1.2, b 0.75) identically on PGlite and Postgres.
create table {{schema}}.postings (
  kb    uuid not null,
  term  text not null,
  chunk bigint not null references {{schema}}.chunks (id) on delete cascade,
  tf    integer not null,
  primary key (kb, term, chunk)
);
create index postings_chunk on {{schema}}.postings (chunk);

create table {{schema}}.terms (
  kb   uuid not null references {{schema}}.kbs (id) on delete cascade,
  term text not null,
  df   integer not null,
  primary key (kb, term)
);

-- Dense indexes: one per embedder a knowledge base has had; `building` ones are invisible to
-- search until a reindex switches kbs.active_index to them.
create table {{schema}}.indexes (
  id          uuid primary key,
  kb          uuid not null references {{schema}}.kbs (id) on delete cascade,
  embedder    jsonb not null,
  store       text not null,
  state       text not null check (state in ('building', 'ready', 'retired', 'failed')),
  dimensions  integer,
  -- The built-in embedder's ONNX model and vocabulary (null for endpoint embedders).
  model       bytea,
  vocabulary  jsonb,
  -- Chunks the embedder was trained on (retrained when the knowledge base outgrows it).
  trained_on  integer not null default 0,
  -- Bumped on every vector write, so an in-memory copy knows when it is stale.
  revision    bigint not null default 0,
  created_at  timestamptz not null default now(),
  ready_at    timestamptz
);

-- The `pgarray` vector store: exact search over real[] (Postgres without pgvector).
create table {{schema}}.vectors (
  index_id uuid not null references {{schema}}.indexes (id) on delete cascade,
  chunk    bigint not null references {{schema}}.chunks (id) on delete cascade,
  vec      real[] not null,
  primary key (index_id, chunk)
);
create index vectors_chunk on {{schema}}.vectors (chunk);

-- Ingest and reindex tasks, run by the plugin's in-process runner (see README).
create table {{schema}}.tasks (
  id              uuid primary key,
  project         text not null,
  kb              uuid not null references {{schema}}.kbs (id) on delete cascade,
  kind            text not null check (kind in ('ingest', 'reindex')),
  state           text not null check (state in ('queued', 'running', 'succeeded', 'failed')),
  progress        jsonb not null default '{}',
  result          jsonb,
  error           jsonb,
  idempotency_key text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
create unique index tasks_idempotency on {{schema}}.tasks (project, idempotency_key) where idempotency_key is not null;
