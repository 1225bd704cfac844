/**
 * The `vectorStores` extension point's contract. A space is one dense index of one knowledge base
 * (its id and dimensions); chunk ids are strings. Stores inside Anvil's own database take the
 * caller's transaction (`tx`) so vectors appear and disappear with their chunks; remote stores
 * (Qdrant) ignore it and are written after the chunks commit.
 */
import type { LegHit } from '../retrieval/fusion.ts';

export interface SqlLike {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

export interface VectorSpace {
  readonly kb: string;
  readonly index: string;
  readonly dimensions: number;
  /**
   * The index's revision as the caller just read it, when it did (stores that keep a copy per
   * server may skip reading it again). Absent: the store reads it itself.
   */
  readonly revision?: string;
}

export interface VectorItem {
  readonly id: string;
  readonly vector: Float32Array;
  readonly document: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Equality on metadata keys (`{team: "payments"}`); every key must match. */
export type MetadataFilter = Readonly<Record<string, string | number | boolean>>;

export interface VectorQuery {
  readonly vector: Float32Array;
  readonly k: number;
  readonly filter?: MetadataFilter;
}

export interface VectorStore {
  readonly name: string;
  readonly description: string;
  /** Creates the space if needed (idempotent). */
  ensure(space: VectorSpace): Promise<void>;
  upsert(space: VectorSpace, items: readonly VectorItem[], tx?: SqlLike): Promise<void>;
  remove(space: VectorSpace, ids: readonly string[], tx?: SqlLike): Promise<void>;
  /** Cosine similarity, best first, at most `k`. */
  search(space: VectorSpace, query: VectorQuery): Promise<LegHit[]>;
  count(space: VectorSpace): Promise<number>;
  drop(space: VectorSpace): Promise<void>;
}
