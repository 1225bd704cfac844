/**
 * BM25 (k1 1.2, b 0.75) over an in-memory copy of a knowledge base's postings: the same formula and
 * statistics as the SQL leg (tools/knowledge/sql/bm25.sql), without a database round trip per
 * posting. A query touching ~7,000 postings costs ~30 ms as SQL on PGlite under load and well under
 * a millisecond here. Built from posting lists (term → chunks, tfs, chunk lengths).
 */
import type { LegHit } from './fusion.ts';

const K1 = 1.2;
const B = 0.75;

export interface PostingList {
  readonly term: string;
  /** Chunk ids (ascending). */
  readonly chunks: readonly number[];
  readonly tfs: readonly number[];
  readonly lengths: readonly number[];
}

interface List {
  readonly chunks: Int32Array;
  readonly tfs: Float32Array;
}

export class Bm25Index {
  private constructor(
    private readonly lists: ReadonlyMap<string, List>,
    /** Chunk id by slot. */
    private readonly ids: readonly number[],
    /** Chunk length by slot. */
    private readonly lengths: Float32Array,
    readonly postings: number,
  ) {}

  static build(lists: Iterable<PostingList>): Bm25Index {
    const slotOf = new Map<number, number>();
    const ids: number[] = [];
    const lengths: number[] = [];
    const built = new Map<string, List>();
    let postings = 0;
    for (const list of lists) {
      const chunks = new Int32Array(list.chunks.length);
      list.chunks.forEach((chunk, i) => {
        let slot = slotOf.get(chunk);
        if (slot === undefined) {
          slot = ids.length;
          slotOf.set(chunk, slot);
          ids.push(chunk);
          lengths.push(list.lengths[i] as number);
        }
        chunks[i] = slot;
      });
      built.set(list.term, { chunks, tfs: Float32Array.from(list.tfs) });
      postings += chunks.length;
    }
    return new Bm25Index(built, ids, Float32Array.from(lengths), postings);
  }

  /** The best `limit` chunks for the distinct `terms`; `n` chunks of `averageLength` tokens in all. */
  search(terms: readonly string[], n: number, averageLength: number, limit: number): LegHit[] {
    const scores = new Float64Array(this.ids.length);
    const touched: number[] = [];
    for (const term of new Set(terms)) {
      const list = this.lists.get(term);
      if (!list) continue;
      const df = list.chunks.length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (let i = 0; i < df; i += 1) {
        const slot = list.chunks[i] as number;
        const tf = list.tfs[i] as number;
        if (scores[slot] === 0) touched.push(slot);
        scores[slot] = (scores[slot] as number) + (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * (this.lengths[slot] as number)) / averageLength));
      }
    }
    touched.sort((a, b) => (scores[b] as number) - (scores[a] as number) || (this.ids[a] as number) - (this.ids[b] as number));
    return touched.slice(0, limit).map((slot) => ({ id: String(this.ids[slot]), score: scores[slot] as number }));
  }
}
