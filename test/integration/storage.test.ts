/**
 * The storage contract against every storage backend: embedded PGlite always, Postgres when
 * DATABASE_URL is set (each test on a fresh database it creates and drops).
 */
import { storageContract } from '../contracts/storage.contract.ts';
import { pgliteStorage, postgresStorage } from '../support/backends.ts';

storageContract(pgliteStorage);
storageContract(postgresStorage);
