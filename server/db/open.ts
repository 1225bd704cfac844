import type { AnvilConfig } from '../config/schema.ts';
import { type EmbeddedRole, openEmbeddedStorage } from './embedded.ts';
import { openPostgresStorage, type Storage } from './storage.ts';

/** Postgres when `databaseUrl` is configured, otherwise the embedded PGlite in ANVIL_HOME. */
export async function openStorage(config: AnvilConfig, role: EmbeddedRole): Promise<Storage> {
  if (config.databaseUrl) {
    const storage = openPostgresStorage(config.databaseUrl);
    await storage.ping();
    return storage;
  }
  return openEmbeddedStorage({ home: config.home, role, embedded: config.embedded });
}
