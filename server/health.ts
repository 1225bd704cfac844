import { migrationStatus, type MigrationReport, type MigrationSet } from './db/migrate.ts';
import { errorMessage } from './errors.ts';
import type { Storage } from './db/storage.ts';
import type { QueueBackend } from './queue/backend.ts';

export interface ProbeResult {
  ok: boolean;
  latencyMs: number | null;
  error?: string;
}

export interface HealthSnapshot {
  checkedAt: Date;
  storage: ProbeResult & { serverVersion: string | null };
  queue: ProbeResult;
  migrations: MigrationReport[];
}

/**
 * Probes storage, queue and migrations at most once per `maxAgeMs`, sharing one probe among
 * concurrent callers. Without it every status call would run three queries on the database, and
 * on embedded PGlite those queries share one session with every other request.
 */
/** Rejects when `promise` has not settled within `ms`, so one hung backend cannot hang every caller. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const PROBE_TIMEOUT_MS = 2_000;

export class HealthMonitor {
  private latest: HealthSnapshot | undefined;
  private inflight: Promise<HealthSnapshot> | undefined;

  constructor(
    private readonly services: { storage: Storage; queue: QueueBackend; migrationSets: readonly MigrationSet[] },
    private readonly maxAgeMs = 1_000,
  ) {}

  snapshot(): Promise<HealthSnapshot> {
    if (this.latest && Date.now() - this.latest.checkedAt.getTime() < this.maxAgeMs) return Promise.resolve(this.latest);
    this.inflight ??= this.probe().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async probe(): Promise<HealthSnapshot> {
    const { storage, queue, migrationSets } = this.services;
    const [storageResult, queueResult, migrations] = await Promise.all([
      within(storage.ping(), PROBE_TIMEOUT_MS, 'storage').then(
        (result) => ({ ok: true, latencyMs: result.latencyMs, serverVersion: result.serverVersion }),
        (error: unknown) => ({ ok: false, latencyMs: null, serverVersion: null, error: errorMessage(error) }),
      ),
      within(queue.health(), PROBE_TIMEOUT_MS, 'queue').then(
        (result) => ({ ok: true, latencyMs: result.latencyMs }),
        (error: unknown) => ({ ok: false, latencyMs: null, error: errorMessage(error) }),
      ),
      within(migrationStatus(storage, migrationSets), PROBE_TIMEOUT_MS, 'migration status').catch(() => []),
    ]);
    this.latest = { checkedAt: new Date(), storage: storageResult, queue: queueResult, migrations };
    return this.latest;
  }
}
