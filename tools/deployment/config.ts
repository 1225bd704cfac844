/**
 * The deployments plugin's settings: the `deployments` section of anvil.config.json (and the
 * ANVIL_DEPLOYMENTS_* variables), which the server hands to the built-in plugin as its plugin
 * configuration — one schema, parsed once with the rest of the config; a bad value is refused at
 * start with its key named (`deployments.sessionCacheMb: …`).
 */
import { z } from 'anvil/plugin';
import { batchingSchema, loggingSchema } from './schema.ts';

export const deploymentsConfig = z
  .object({
    /** Estimated bytes of loaded model versions kept per server. */
    sessionCacheMb: z.number().int().min(16).max(65_536).default(1024),
    /** How often each server checks, in the background, whether the deployments it serves changed (another server's change reaches it within this). */
    stateTtlMs: z.number().int().min(50).max(60_000).default(1000),
    /** onnxruntime intra-op threads per loaded model. */
    intraOpThreads: z.number().int().min(1).max(64).default(1),
    /** Model runs in flight at once per deployment variant. */
    concurrentRuns: z.number().int().min(1).max(16).default(1),
    /** Prediction-log rows buffered in memory at most; beyond, rows are dropped and counted. */
    logBufferRows: z.number().int().min(1).max(1_000_000).default(20_000),
    logBatchRows: z.number().int().min(1).max(10_000).default(500),
    logFlushMs: z.number().int().min(10).max(60_000).default(250),
    /** How often log rows past their deployment's retention are deleted. */
    retentionIntervalMs: z.number().int().min(1_000).max(86_400_000).default(600_000),
    /** Prediction-log rows of a deleted deployment are kept this long (an audit trail of what it answered), then deleted. */
    deletedRetentionDays: z.number().int().min(1).max(3650).default(30),
    controllerIntervalMs: z.number().int().min(100).max(600_000).default(1000),
    /** A deployment that answered a request this recently "serves traffic": deployments_delete refuses it without force. */
    deleteIdleSeconds: z.number().int().min(0).max(86_400).default(300),
    /** Batching and logging of a new deployment when deployments_create gives none (each field may be given alone). */
    defaults: z
      .object({
        batching: batchingSchema.prefault({}),
        logging: loggingSchema.prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type DeploymentsConfig = z.output<typeof deploymentsConfig>;
