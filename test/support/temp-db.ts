/**
 * Throw-away Postgres databases for tests that need real Postgres (DATABASE_URL).
 *
 * Every call creates a fresh, uniquely named database on the server DATABASE_URL points at, so
 * tests never see each other's rows, several runs can share one server, and nothing has to be
 * cleaned table by table: `drop()` removes the whole database, even with connections still open.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TempDatabase {
  /** The database's name (`anvil_t_<random>`). */
  readonly name: string;
  /** DATABASE_URL with its database replaced by the temporary one. */
  readonly url: string;
  /** Drops the database, terminating any connection still on it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Only names we generate ever reach SQL, but quoting keeps that a property of this file alone. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates a fresh database next to the one `adminUrl` (default: DATABASE_URL) names. The admin
 * connection only needs the right to `create database`.
 */
export async function createTempDatabase(options: { adminUrl?: string; prefix?: string } = {}): Promise<TempDatabase> {
  const adminUrl = options.adminUrl ?? process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('createTempDatabase needs DATABASE_URL (a Postgres server where the test user may create databases)');
  const prefix = options.prefix ?? 'anvil_t';
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`Temp database prefix must be a lower-case SQL identifier, got ${prefix}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;

  await withAdmin(adminUrl, (client) => client.query(`create database ${quoteIdent(name)}`));

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: url.toString(),
    drop() {
      dropped ??= withAdmin(adminUrl, async (client) => {
        await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
      });
      return dropped;
    },
  };
}
