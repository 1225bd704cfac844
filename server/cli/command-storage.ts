import type { AnvilConfig } from '../config/schema.ts';
import { coreMigrations, runMigrations } from '../db/migrate.ts';
import { openStorage } from '../db/open.ts';
import type { Storage } from '../db/storage.ts';

/**
 * Storage for a one-shot command: the configured Postgres, or the embedded database — through the
 * running server's socket when one owns ANVIL_HOME, else opened directly. Migrations are applied
 * so that a command works on a home no server has started on yet.
 */
export async function withCommandStorage<T>(config: AnvilConfig, work: (storage: Storage) => Promise<T>): Promise<T> {
  const storage = await openStorage(config, 'command');
  try {
    await runMigrations(storage, [coreMigrations()]);
    return await work(storage);
  } finally {
    await storage.close();
  }
}
