/**
 * Hybrid search: the lexical leg (BM25 from stored statistics) and the dense leg (the active
 * index's store) each return candidates with the metadata filter applied inside the leg; fusion
 * (RRF or weighted, the knowledge base's settings) ranks them; chunk rows are read last.
 */
import type { PluginSql } from 'anvil/plugin';
import { fuse, type FusedHit, type FusionSettings, type LegHit } from '../../knowledge/retrieval/fusion.ts';
import type { MetadataFilter } from '../../knowledge/stores/types.ts';
import type { Indexer } from './indexer.ts';
import type { LexicalIndex } from './lexical.ts';
import type { KbRow } from './model.ts';
import { sqlFile } from './sql.ts';

const SQL = { chunks: sqlFile('chunks-get'), documents: sqlFile('chunk-documents') };

export type SearchMode = 'hybrid' | 'lexical' | 'dense';

export interface Legs {
  lexical: LegHit[];
  dense: LegHit[];
  /** False when the knowledge base has no dense index yet (hybrid is then lexical). */
  denseReady: boolean;
}

export async function legs(lexicalIndex: LexicalIndex, indexer: Indexer, kb: KbRow, query: string, mode: SearchMode, limit: number, filter?: MetadataFilter): Promise<Legs> {
  const wantDense = mode !== 'lexical';
  const [lexical, denseOutcome] = await Promise.all([
    mode === 'dense' ? Promise.resolve([]) : lexicalIndex.search(kb, query, limit, filter),
    wantDense ? denseLeg(indexer, kb, query, limit, filter) : Promise.resolve(undefined),
  ]);
  return { lexical, dense: denseOutcome ?? [], denseReady: denseOutcome !== undefined };
}

async function denseLeg(indexer: Indexer, kb: KbRow, query: string, limit: number, filter?: MetadataFilter): Promise<LegHit[] | undefined> {
  const index = await indexer.active(kb);
  if (!index) return undefined;
  const [vector] = await index.embedder.embed([query], 'query');
  if (!vector || vector.every((v) => v === 0)) return [];
  // The index's revision came with the knowledge base's row: an in-memory store need not read it again.
  const space = kb.index_revision ? { ...index.space, revision: kb.index_revision } : index.space;
  return index.store.search(space, { vector, k: limit, ...(filter ? { filter } : {}) });
}

export function rank(found: Legs, mode: SearchMode, fusion: FusionSettings): FusedHit[] {
  if (mode === 'lexical' || (mode === 'hybrid' && !found.denseReady)) return fuse(found.lexical, [], { ...fusion, weights: { lexical: 1, dense: 0 } });
  if (mode === 'dense') return fuse([], found.dense, { ...fusion, weights: { lexical: 0, dense: 1 } });
  return fuse(found.lexical, found.dense, fusion);
}

export interface ChunkRow extends Record<string, unknown> {
  id: string;
  document: string;
  version: number;
  page: number | null;
  start_char: number;
  end_char: number;
  heading: string[];
  text: string;
}

export async function chunkRows(sql: PluginSql, kb: string, ids: readonly string[]): Promise<Map<string, ChunkRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql.query<ChunkRow>(SQL.chunks, [kb, ids]);
  return new Map(rows.rows.map((row) => [row.id, row]));
}

/** chunk id → document id, for turning chunk rankings into document rankings. */
export async function chunkDocuments(sql: PluginSql, kb: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await sql.query<{ id: string; document: string }>(SQL.documents, [kb, ids]);
  return new Map(rows.rows.map((row) => [row.id, row.document]));
}
