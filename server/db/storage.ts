import pg from 'pg';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';

export type StorageKind = 'pglite' | 'postgres';

export type SqlClient = Pick<pg.PoolClient, 'query'>;

/**
 * The storage port: everything Anvil keeps goes through `pg`, whether the server behind it is
 * PGlite in this process (embedded) or a Postgres cluster (distributed).
 */
export interface Storage {
  readonly kind: StorageKind;
  /** Options another `pg` pool (e.g. BullMQ's Postgres backend) can use to reach the same database. */
  readonly connection: pg.PoolConfig;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Runs `work` in one transaction on one connection; commits on success, rolls back on throw. */
  transaction<T>(work: (client: SqlClient) => Promise<T>): Promise<T>;
  /** Checks out a dedicated connection (session-level locks need one). */
  connect(): Promise<pg.PoolClient>;
  ping(): Promise<{ latencyMs: number; serverVersion: string }>;
  close(): Promise<void>;
}

export class PgStorage implements Storage {
  readonly kind: StorageKind;
  readonly connection: pg.PoolConfig;
  private readonly pool: pg.Pool;
  private readonly onClose: () => Promise<void>;
  private closed = false;

  constructor(options: { kind: StorageKind; connection: pg.PoolConfig; onClose?: () => Promise<void> }) {
    this.kind = options.kind;
    this.connection = options.connection;
    this.pool = new pg.Pool(options.connection);
    // An idle client losing its server must not crash the process; the next query reports it.
    this.pool.on('error', () => {});
    this.onClose = options.onClose ?? (async () => {});
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  async transaction<T>(work: (client: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  connect(): Promise<pg.PoolClient> {
    return this.pool.connect();
  }

  async ping(): Promise<{ latencyMs: number; serverVersion: string }> {
    const started = performance.now();
    try {
      const result = await this.pool.query<{ version: string }>('select current_setting($1) as version', ['server_version']);
      return { latencyMs: performance.now() - started, serverVersion: result.rows[0]?.version ?? 'unknown' };
    } catch (error) {
      throw new AnvilError(ErrorCodes.STORAGE_UNAVAILABLE, `Storage (${this.kind}) did not answer: ${errorMessage(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => {});
    await this.onClose();
  }
}

export function openPostgresStorage(databaseUrl: string, poolSize = 10): Storage {
  return new PgStorage({ kind: 'postgres', connection: { connectionString: databaseUrl, max: poolSize } });
}
