/**
 * GPU telemetry history (`worker_samples`, migration 0008): the heartbeat path only hands the
 * telemetry it already parsed to `offer`, which keeps at most one sample per worker every
 * `sampleMs` in a bounded in-memory buffer; `flush` (every `flushMs`, from the plugin's timer)
 * writes the buffer in one transaction, together with the retention delete when `pruneMs` has
 * passed since the last one that committed. A heartbeat never waits on this table, and a failed
 * flush loses at most one buffer of samples, never a lease.
 */
import { loadSql, type Logger, type PluginSql } from 'anvil/plugin';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = { insert: sql('samples-insert'), prune: sql('samples-prune'), history: sql('samples-history') } as const;

/** One GPU's reading at one heartbeat. */
export interface GpuSample {
  workerId: string;
  gpuIndex: number;
  at: Date;
  utilizationPct: number | null;
  memoryUsedMb: number | null;
  temperatureC: number | null;
}

export interface TelemetrySettings {
  /** At most one sample per worker this often (0: every heartbeat). */
  sampleMs: number;
  /** Samples older than this are deleted by the next prune. */
  retentionMs: number;
  /**
   * At most one retention delete this often (the first flush always prunes): the delete scans the
   * table's time index, which a flush every few seconds need not repeat; until the next prune a
   * sample may outlive `retentionMs` by at most this long (reads are capped at the retention anyway).
   */
  pruneMs: number;
  /** Samples held in memory between flushes; beyond it the oldest are dropped (and counted). */
  bufferMax: number;
}

export interface HistoryPoint {
  at: string;
  utilizationPct: number | null;
  memoryUsedMb: number | null;
  temperatureC: number | null;
  samples: number;
}

export interface GpuHistory {
  worker: string;
  workerId: string;
  gpu: number;
  points: HistoryPoint[];
}

const GPUS_PER_WORKER_MAX = 64;

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The GPUs of a heartbeat's telemetry (`{gpus: [{index, utilizationPct, memoryUsedMb, temperatureC}]}`, as gpu-workers/agent.ts sends it). */
export function gpuReadings(telemetry: unknown): Array<Omit<GpuSample, 'workerId' | 'at'>> {
  const gpus = typeof telemetry === 'object' && telemetry !== null ? (telemetry as { gpus?: unknown }).gpus : undefined;
  if (!Array.isArray(gpus)) return [];
  const readings: Array<Omit<GpuSample, 'workerId' | 'at'>> = [];
  const seen = new Set<number>();
  for (const gpu of gpus.slice(0, GPUS_PER_WORKER_MAX)) {
    if (typeof gpu !== 'object' || gpu === null) continue;
    const entry = gpu as Record<string, unknown>;
    const index = entry.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || seen.has(index)) continue;
    seen.add(index);
    const reading = { gpuIndex: index, utilizationPct: finite(entry.utilizationPct), memoryUsedMb: finite(entry.memoryUsedMb), temperatureC: finite(entry.temperatureC) };
    if (reading.utilizationPct !== null || reading.memoryUsedMb !== null || reading.temperatureC !== null) readings.push(reading);
  }
  return readings;
}

export class TelemetryRecorder {
  private buffer: GpuSample[] = [];
  private readonly lastSampled = new Map<string, number>();
  private flushing: Promise<number> | null = null;
  /** When the last committed prune ran (the recorder's clock), or null before the first. */
  private lastPruned: number | null = null;
  /** Samples dropped because the buffer was full (a database that could not keep up). */
  dropped = 0;

  constructor(
    private readonly sql: PluginSql,
    private readonly settings: TelemetrySettings,
    private readonly log: Logger,
    /** The clock that spaces prunes (a test moves it; the delete's cutoff is the database's clock). */
    private readonly now: () => number = Date.now,
  ) {}

  /** Called on the heartbeat path: synchronous, in memory. */
  offer(workerId: string, telemetry: unknown, at: Date = new Date()): void {
    const last = this.lastSampled.get(workerId);
    if (this.settings.sampleMs > 0 && last !== undefined && at.getTime() - last < this.settings.sampleMs) return;
    const readings = gpuReadings(telemetry);
    if (readings.length === 0) return;
    this.lastSampled.set(workerId, at.getTime());
    for (const reading of readings) this.buffer.push({ ...reading, workerId, at });
    const excess = this.buffer.length - this.settings.bufferMax;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  /** Writes the buffered samples, and applies retention when a prune is due, in one transaction; returns the samples written. */
  flush(): Promise<number> {
    // One flush at a time: a slow database must not stack writers up behind the timer.
    this.flushing ??= this.write().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async write(): Promise<number> {
    const batch = this.buffer;
    this.buffer = [];
    const startedAt = this.now();
    const prune = this.lastPruned === null || startedAt - this.lastPruned >= this.settings.pruneMs;
    try {
      await this.sql.transaction(async (tx) => {
        if (batch.length > 0) {
          await tx.query(SQL.insert, [
            batch.map((sample) => sample.workerId),
            batch.map((sample) => sample.gpuIndex),
            batch.map((sample) => sample.at.toISOString()),
            batch.map((sample) => sample.utilizationPct),
            batch.map((sample) => sample.memoryUsedMb),
            batch.map((sample) => sample.temperatureC),
          ]);
        }
        if (prune) await tx.query(SQL.prune, [this.settings.retentionMs / 1000]);
      });
      // Only a committed delete counts: a failed flush leaves the prune due for the next one.
      if (prune) this.lastPruned = startedAt;
      return batch.length;
    } catch (error) {
      // Telemetry history is best effort: the lease and the latest telemetry were already stored.
      this.dropped += batch.length;
      this.log.warn({ err: error instanceof Error ? error.message : String(error), samples: batch.length }, 'could not store GPU telemetry samples');
      return 0;
    }
  }

  /** Forgets a worker's sampling clock (it left); its stored samples stay until retention. */
  forget(workerId: string): void {
    this.lastSampled.delete(workerId);
  }

  /** Every GPU's history since `since`, averaged into `bucketSeconds` buckets, for one worker name or all. */
  async history(since: Date, bucketSeconds: number, worker?: string): Promise<GpuHistory[]> {
    const { rows } = await this.sql.query<{
      worker: string;
      worker_id: string;
      gpu_index: number;
      bucket: Date;
      utilization_pct: number | null;
      memory_used_mb: number | null;
      temperature_c: number | null;
      samples: number;
    }>(SQL.history, [since.toISOString(), bucketSeconds, worker ?? null]);
    const series = new Map<string, GpuHistory>();
    for (const row of rows) {
      const key = `${row.worker_id}\u0000${row.gpu_index}`;
      let entry = series.get(key);
      if (!entry) {
        entry = { worker: row.worker, workerId: row.worker_id, gpu: row.gpu_index, points: [] };
        series.set(key, entry);
      }
      const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
      entry.points.push({
        at: new Date(row.bucket).toISOString(),
        utilizationPct: round(row.utilization_pct),
        memoryUsedMb: round(row.memory_used_mb),
        temperatureC: round(row.temperature_c),
        samples: row.samples,
      });
    }
    return [...series.values()];
  }
}
