import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import type { Storage } from './storage.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationSet {
  /** `core`, or a plugin id: each scope keeps its own version sequence. */
  scope: string;
  migrations: Migration[];
}

export interface MigrationReport {
  scope: string;
  applied: number[];
  current: number;
  latest: number;
}

const fileNamePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** One lock for every migration scope so DDL from different scopes never interleaves. */
const MIGRATION_LOCK_KEY = 0x616e76696c; // "anvil"

/** `render` rewrites each file before it runs (e.g. a plugin's `{{schema}}`); the checksum is of the file as written. */
export function readMigrationDir(scope: string, dir: string, render: (sql: string) => string = (sql) => sql): MigrationSet {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = fileNamePattern.exec(file);
      if (!match) throw new AnvilError(ErrorCodes.MIGRATION_FAILED, `Migration file ${path.join(dir, file)} must be named NNNN_name.sql`);
      const text = readFileSync(path.join(dir, file), 'utf8');
      return { version: Number(match[1]), name: match[2] as string, sql: render(text), checksum: createHash('sha256').update(text).digest('hex') };
    });
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new AnvilError(ErrorCodes.MIGRATION_FAILED, `Migrations in ${dir} must be numbered 1..n without gaps; found ${migration.version} at position ${index + 1}`);
    }
  });
  return { scope, migrations };
}

export const coreMigrations = (): MigrationSet =>
  readMigrationDir('core', fileURLToPath(new URL('./migrations/', import.meta.url)));

const CORE_LEDGER = 'anvil.schema_migrations';

/** The ledger table (`schema.table`), created when absent (with the `anvil` schema for the core ledger). */
function bootstrapSql(ledger: string): string {
  return `
${ledger === CORE_LEDGER ? 'create schema if not exists anvil;' : ''}
create table if not exists ${ledger} (
  scope      text not null,
  version    integer not null,
  name       text not null,
  checksum   text not null,
  applied_at timestamptz not null default now(),
  primary key (scope, version)
);`;
}

/**
 * Applies pending migrations exactly once, even when several servers start together: a session
 * advisory lock serialises them, and each migration commits with its ledger row in one transaction.
 */
export async function runMigrations(storage: Storage, sets: readonly MigrationSet[], options: { ledger?: string } = {}): Promise<MigrationReport[]> {
  // A plugin with its own Postgres role keeps its ledger in its own schema (it may not write Anvil's).
  const ledger = options.ledger ?? CORE_LEDGER;
  const client = await storage.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(bootstrapSql(ledger));
      const reports: MigrationReport[] = [];
      for (const set of sets) {
        const { rows } = await client.query<{ version: number; checksum: string; name: string }>(
          `select version, checksum, name from ${ledger} where scope = $1 order by version`,
          [set.scope],
        );
        const done = new Map(rows.map((row) => [row.version, row]));
        for (const [version, row] of done) {
          const known = set.migrations[version - 1];
          if (known && known.checksum !== row.checksum) {
            throw new AnvilError(
              ErrorCodes.MIGRATION_CHECKSUM,
              `Migration ${set.scope}/${version}_${row.name} was changed after it was applied; add a new migration instead of editing an applied one.`,
            );
          }
        }
        const applied: number[] = [];
        for (const migration of set.migrations) {
          if (done.has(migration.version)) continue;
          try {
            await client.query('BEGIN');
            const again = await client.query(`select 1 from ${ledger} where scope = $1 and version = $2`, [set.scope, migration.version]);
            if (again.rowCount) {
              await client.query('COMMIT');
              continue;
            }
            await client.query(migration.sql);
            await client.query(`insert into ${ledger} (scope, version, name, checksum) values ($1, $2, $3, $4)`, [
              set.scope,
              migration.version,
              migration.name,
              migration.checksum,
            ]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => {});
            throw new AnvilError(ErrorCodes.MIGRATION_FAILED, `Migration ${set.scope}/${migration.version}_${migration.name} failed: ${errorMessage(error)}`, { cause: error });
          }
          applied.push(migration.version);
        }
        const latest = set.migrations.length;
        reports.push({ scope: set.scope, applied, current: Math.max(latest, ...done.keys()), latest });
      }
      return reports;
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    client.release();
  }
}

/** What is applied, without changing anything (for status and doctor). */
export async function migrationStatus(storage: Storage, sets: readonly MigrationSet[]): Promise<MigrationReport[]> {
  const exists = await storage.query<{ present: boolean }>("select to_regclass('anvil.schema_migrations') is not null as present");
  const rows = exists.rows[0]?.present
    ? (await storage.query<{ scope: string; version: number }>('select scope, version from anvil.schema_migrations')).rows
    : [];
  return sets.map((set) => {
    const versions = rows.filter((row) => row.scope === set.scope).map((row) => row.version);
    return { scope: set.scope, applied: versions.sort((a, b) => a - b), current: Math.max(0, ...versions), latest: set.migrations.length };
  });
}
