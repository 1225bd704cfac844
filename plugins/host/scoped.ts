import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readMigrationDir, runMigrations } from '../../server/db/migrate.ts';
import type { Storage } from '../../server/db/storage.ts';
import { AnvilError, ErrorCodes } from '../../server/errors.ts';
import type { QueueBackend } from '../../server/queue/backend.ts';
import type { PluginPermission, PluginQueue, PluginSql, SqlExecutor } from '../sdk/types.ts';

/** `plugin_<id>` with dashes as underscores: a plain identifier, so it needs no quoting games. */
export function pluginSchemaName(pluginId: string): string {
  return `plugin_${pluginId.replaceAll('-', '_')}`;
}

export function renderSchema(text: string, schema: string): string {
  return text.replaceAll('{{schema}}', `"${schema}"`);
}

function executor(run: (text: string, values?: unknown[]) => Promise<{ rows: unknown[]; rowCount: number | null }>, schema: string): SqlExecutor {
  return {
    async query<R extends Record<string, unknown>>(text: string, values?: unknown[]) {
      const result = await run(renderSchema(text, schema), values);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
  };
}

function permissionError(pluginId: string, permission: PluginPermission): AnvilError {
  return new AnvilError(ErrorCodes.PLUGIN_PERMISSION, `Plugin ${pluginId} used ctx.${permission} without declaring (and being granted) the "${permission}" permission`);
}

/** At most this many connections in a plugin's own pool (`ctx.sql.pool()`). */
const PLUGIN_POOL_MAX = 3;

export function scopedSql(storage: Storage, pluginId: string, granted: boolean, onClose?: (close: () => Promise<void>) => void): PluginSql {
  const schema = pluginSchemaName(pluginId);
  let pool: pg.Pool | undefined;
  onClose?.(async () => {
    const open = pool;
    pool = undefined;
    await open?.end().catch(() => {});
  });
  const base = executor((text, values) => storage.query(text, values), schema);
  const guard = () => {
    if (!granted) throw permissionError(pluginId, 'sql');
  };
  return {
    schema,
    async query(text, values) {
      guard();
      return base.query(text, values);
    },
    async transaction(work) {
      guard();
      return storage.transaction((client) => work(executor((text, values) => client.query(text, values), schema)));
    },
    pool() {
      guard();
      pool ??= new pg.Pool({ ...storage.connection, max: Math.min(storage.connection.max ?? PLUGIN_POOL_MAX, PLUGIN_POOL_MAX) });
      return pool;
    },
  };
}

export function scopedQueue(queue: QueueBackend, pluginId: string, granted: boolean): PluginQueue {
  const name = (local: string) => {
    if (!granted) throw permissionError(pluginId, 'queue');
    return `${pluginId}-${local}`;
  };
  return {
    prefix: `${pluginId}-`,
    open: (local) => queue.openQueue(name(local)),
    worker: (local, processor, settings) => queue.openWorker(name(local), processor, settings),
  };
}

/**
 * Applies a plugin's migration folders in its own schema, `{{schema}}` rendered: what the host does
 * after `register`, exported so a plugin's tests can prepare a database the same way.
 */
export async function migratePlugin(storage: Storage, pluginId: string, directories: ReadonlyArray<URL | string>, options: { ledger?: string } = {}): Promise<void> {
  const schema = pluginSchemaName(pluginId);
  // With its own ledger the plugin runs as its own role, whose schema the server has made already.
  if (!options.ledger) await createSchema(storage, schema);
  const sets = directories.map((directory, index) =>
    readMigrationDir(index === 0 ? pluginId : `${pluginId}/${index}`, typeof directory === 'string' ? directory : fileURLToPath(directory), (sql) => renderSchema(sql, schema)),
  );
  await runMigrations(storage, sets, options.ledger ? { ledger: `"${schema}".${options.ledger}` } : {});
}

async function createSchema(storage: Storage, schema: string): Promise<void> {
  await storage.query(`create schema if not exists "${schema}"`).catch((error: unknown) => {
    // `if not exists` is not safe against a concurrent create: two servers starting together can
    // both miss the schema and one fails on the catalog's unique index. The schema exists either way.
    const code = (error as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw error;
  });
}
