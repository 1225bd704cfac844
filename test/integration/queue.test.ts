/**
 * The queue contract against every queue backend: BullMQ's Postgres backend on embedded PGlite
 * always, on Postgres when DATABASE_URL is set, and BullMQ on Redis when REDIS_URL is set (each
 * test under its own database or key prefix, removed afterwards).
 */
import { queueContract } from '../contracts/queue.contract.ts';
import { queueBackends } from '../support/backends.ts';

for (const factory of queueBackends) queueContract(factory);
