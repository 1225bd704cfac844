/**
 * Loaded model versions, shared by every deployment on this server: loaded lazily on first use
 * (one load however many requests ask at once), kept while the estimated bytes of all of them stay
 * under a bound, the least recently used unused ones released first. A model in use is never
 * released under a request; the bound may be exceeded while every loaded model is busy.
 */
import type { ServingModel } from './model.ts';

interface Entry {
  readonly loading: Promise<ServingModel>;
  model: ServingModel | undefined;
  users: number;
  lastUsed: number;
}

export interface Lease {
  readonly model: ServingModel;
  release(): void;
}

export interface CacheStats {
  models: number;
  bytes: number;
  boundBytes: number;
  loads: number;
  evictions: number;
}

export class ModelCache {
  private readonly entries = new Map<string, Entry>();
  private loads = 0;
  private evictions = 0;

  constructor(private readonly boundBytes: number) {}

  async acquire(key: string, load: () => Promise<ServingModel>): Promise<Lease> {
    let entry = this.entries.get(key);
    if (!entry) {
      this.loads++;
      const loading = load();
      const created: Entry = { loading, model: undefined, users: 0, lastUsed: Date.now() };
      entry = created;
      this.entries.set(key, created);
      loading.then(
        (model) => {
          created.model = model;
          this.evict();
        },
        () => {
          // A failed load is forgotten: the next request tries again.
          if (this.entries.get(key) === created) this.entries.delete(key);
        },
      );
    }
    const current = entry;
    current.users++;
    let model: ServingModel;
    try {
      model = await current.loading;
    } catch (error) {
      current.users--;
      throw error;
    }
    current.lastUsed = Date.now();
    let released = false;
    return {
      model,
      release: () => {
        if (released) return;
        released = true;
        current.users--;
        current.lastUsed = Date.now();
        if (current.users === 0) this.evict();
      },
    };
  }

  private bytes(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.model?.bytes ?? 0;
    return total;
  }

  private evict(): void {
    let total = this.bytes();
    while (total > this.boundBytes) {
      let victim: [string, Entry] | undefined;
      for (const item of this.entries) {
        if (item[1].users === 0 && item[1].model && (!victim || item[1].lastUsed < victim[1].lastUsed)) victim = item;
      }
      if (!victim) return;
      const [key, entry] = victim;
      this.entries.delete(key);
      this.evictions++;
      total -= entry.model?.bytes ?? 0;
      void entry.model?.release().catch(() => {});
    }
  }

  has(key: string): boolean {
    return this.entries.get(key)?.model !== undefined;
  }

  stats(): CacheStats {
    return { models: [...this.entries.values()].filter((entry) => entry.model).length, bytes: this.bytes(), boundBytes: this.boundBytes, loads: this.loads, evictions: this.evictions };
  }

  async close(): Promise<void> {
    const models = [...this.entries.values()].map((entry) => entry.model);
    this.entries.clear();
    await Promise.all(models.map((model) => model?.release().catch(() => {})));
  }
}
