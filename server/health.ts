import { migrationStatus, type MigrationReport, type MigrationSet } from './db/migrate.ts';
import { errorMessage } from './errors.ts';
import { within } from './within.ts';
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

const PROBE_TIMEOUT_MS = 2_000;
const unanswered = (what: string) => `${what} did not answer within ${PROBE_TIMEOUT_MS} ms`;

/**
 * Probes storage, queue and migrations at most once per `maxAgeMs`, sharing one probe among
 * concurrent callers. Without it every status call would run three queries on the database, and
 * on embedded PGlite those queries share one session with every other request.
 */
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
      within(storage.ping(), PROBE_TIMEOUT_MS, unanswered('storage')).then(
        (result) => ({ ok: true, latencyMs: result.latencyMs, serverVersion: result.serverVersion }),
        (error: unknown) => ({ ok: false, latencyMs: null, serverVersion: null, error: errorMessage(error) }),
      ),
      within(queue.health(), PROBE_TIMEOUT_MS, unanswered('queue')).then(
        (result) => ({ ok: true, latencyMs: result.latencyMs }),
        (error: unknown) => ({ ok: false, latencyMs: null, error: errorMessage(error) }),
      ),
      within(migrationStatus(storage, migrationSets), PROBE_TIMEOUT_MS, unanswered('migration status')).catch(() => []),
    ]);
    this.latest = { checkedAt: new Date(), storage: storageResult, queue: queueResult, migrations };
    return this.latest;
  }
}
