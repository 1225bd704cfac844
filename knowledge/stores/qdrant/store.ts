/**
 * Qdrant (`@qdrant/js-client-rest`, QDRANT_URL): one collection per dense index, cosine distance,
 * points keyed by chunk id with the knowledge base, document and metadata as payload. Every query
 * carries the knowledge-base filter in each prefetch as well as at the top (Qdrant applies a
 * top-level filter only to the final stage — an open upstream bug). Not transactional with the
 * server database: vectors are written after their chunks commit, and a chunk whose vector is
 * missing is simply not in the dense leg until reindexed.
 */
import { QdrantClient } from '@qdrant/js-client-rest';
import type { LegHit } from '../../retrieval/fusion.ts';
import type { MetadataFilter, VectorItem, VectorQuery, VectorSpace, VectorStore } from '../types.ts';

type Condition = { key: string; match: { value: string | number | boolean } };

export class QdrantStore implements VectorStore {
  readonly name = 'qdrant';
  readonly description = 'Qdrant collections (QDRANT_URL)';
  private readonly client: QdrantClient;

  constructor(options: { url: string; apiKey?: string | undefined }) {
    this.client = new QdrantClient({ url: options.url, ...(options.apiKey ? { apiKey: options.apiKey } : {}), checkCompatibility: false });
  }

  private collection(space: VectorSpace): string {
    return `anvil_kb_${space.index.replaceAll('-', '')}`;
  }

  async ensure(space: VectorSpace): Promise<void> {
    const name = this.collection(space);
    const { exists } = await this.client.collectionExists(name);
    if (!exists) {
      await this.client.createCollection(name, { vectors: { size: space.dimensions, distance: 'Cosine' } });
      await this.client.createPayloadIndex(name, { field_name: 'kb', field_schema: 'keyword', wait: true });
    }
  }

  async upsert(space: VectorSpace, items: readonly VectorItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.ensure(space);
    for (let at = 0; at < items.length; at += 256) {
      await this.client.upsert(this.collection(space), {
        wait: true,
        points: items.slice(at, at + 256).map((item) => ({ id: Number(item.id), vector: Array.from(item.vector), payload: { kb: space.kb, document: item.document, ...item.metadata } })),
      });
    }
  }

  async remove(space: VectorSpace, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.client.delete(this.collection(space), { wait: true, points: ids.map(Number) });
  }

  async search(space: VectorSpace, query: VectorQuery): Promise<LegHit[]> {
    const filter = { must: [{ key: 'kb', match: { value: space.kb } } as Condition, ...conditions(query.filter)] };
    const result = await this.client.query(this.collection(space), {
      prefetch: [{ query: Array.from(query.vector), filter, limit: query.k }],
      query: Array.from(query.vector),
      filter,
      limit: query.k,
      with_payload: false,
    });
    return result.points.map((point) => ({ id: String(point.id), score: point.score }));
  }

  async count(space: VectorSpace): Promise<number> {
    return (await this.client.count(this.collection(space), { exact: true })).count;
  }

  async drop(space: VectorSpace): Promise<void> {
    await this.client.deleteCollection(this.collection(space));
  }
}

function conditions(filter: MetadataFilter | undefined): Condition[] {
  return Object.entries(filter ?? {}).map(([key, value]) => ({ key, match: { value } }));
}
