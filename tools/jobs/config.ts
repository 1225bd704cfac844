/**
 * The jobs plugin's settings: the `jobs` section of anvil.config.json, which the server hands to the
 * built-in jobs plugin as its plugin configuration (the server also resolves `artifactDir`).
 */
import { z } from 'anvil/plugin';

export const jobsConfig = z
  .object({
    /** Run a worker inside `anvil serve`: `auto` does so on embedded storage (no DATABASE_URL). */
    localWorker: z.enum(['auto', 'on', 'off']).default('auto'),
    /** How many jobs the local worker runs at once. */
    localWorkerSlots: z.number().int().min(1).max(256).default(2),
    /** A worker silent this long is marked lost and its jobs are requeued from their checkpoints. */
    leaseMs: z.number().int().min(1_000).max(3_600_000).default(15_000),
    /** How often workers heartbeat (must be well under leaseMs). */
    heartbeatMs: z.number().int().min(100).max(600_000).default(3_000),
    /** How often the control plane sweeps leases, admits held jobs, preempts and reconciles. */
    sweepMs: z.number().int().min(100).max(600_000).default(1_000),
    /** A dispatched job waiting this long with no free worker may preempt a lower-priority job of its class. */
    preemptAfterMs: z.number().int().min(0).max(3_600_000).default(3_000),
    /** Retry backoff for infrastructure failures: base * 2^(attempt-1), capped. */
    retryBackoffMs: z.number().int().min(0).max(3_600_000).default(1_000),
    retryBackoffMaxMs: z.number().int().min(0).max(86_400_000).default(60_000),
    /** Wall-clock limit of one attempt when the submission gives none. */
    defaultTimeoutMs: z.number().int().min(1_000).max(7 * 86_400_000).default(86_400_000),
    /** SIGTERM → SIGKILL grace for a recipe to checkpoint and exit. */
    graceMs: z.number().int().min(0).max(600_000).default(10_000),
    /** Default per-project quotas (null: unlimited); `jobs_quota` overrides them per project. */
    maxConcurrentJobs: z.number().int().min(1).max(1_000_000).nullable().default(null),
    maxGpus: z.number().int().min(0).max(1_000_000).nullable().default(null),
    /** Where artifacts and checkpoints are kept (content-addressed); default `<home>/artifacts`. */
    artifactDir: z.string().min(1).optional(),
    /** Lets the local worker run the `command` recipe (any executable): off unless you trust every submitter. */
    allowCommandRecipe: z.boolean().default(false),
    /** Where the local worker keeps job work directories; default `<home>/work`. */
    workDir: z.string().min(1).optional(),
    /** A project's priority ceiling unless the operator sets another (`jobs_quota`, cluster:operate): higher requests are capped. */
    maxPriority: z.number().int().min(-1_000_000).max(1_000_000).default(100),
    /**
     * Operator-defined priority classes by name, each with a rank (0–9). A project's job may
     * preempt another project's job only when its project's class ranks higher; it dispatches
     * ahead of lower ranks too. Without classes no project ever preempts another's jobs.
     */
    priorityClasses: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/), z.object({ rank: z.number().int().min(0).max(9) }).strict()).default({}),
    /** The class of a project the operator assigned none (one of priorityClasses). */
    defaultPriorityClass: z.string().min(1).optional(),
    /** How often unreferenced blobs are garbage-collected, and how long a stored blob is kept before it may be (its references are being written). */
    blobGcIntervalMs: z.number().int().min(1_000).max(7 * 86_400_000).default(3_600_000),
    blobGcGraceMs: z.number().int().min(0).max(30 * 86_400_000).default(3_600_000),
    /** GPU telemetry history (the workers page's charts): at most one sample per worker this often (0: every heartbeat). */
    telemetrySampleMs: z.number().int().min(0).max(3_600_000).default(15_000),
    /** How long GPU telemetry samples are kept. */
    telemetryRetentionHours: z.number().min(0.01).max(24 * 90).default(24),
    /** How often buffered samples are written (one transaction, with the retention delete when one is due). */
    telemetryFlushMs: z.number().int().min(100).max(600_000).default(10_000),
    /** At most one retention delete of GPU telemetry samples this often (a flush past it runs one). */
    telemetryPruneMs: z.number().int().min(0).max(86_400_000).default(60_000),
  })
  .strict()
  .superRefine((jobs, issues) => {
    if (jobs.defaultPriorityClass !== undefined && !(jobs.defaultPriorityClass in jobs.priorityClasses)) {
      issues.addIssue({ code: 'custom', path: ['defaultPriorityClass'], message: `names no class of jobs.priorityClasses (${Object.keys(jobs.priorityClasses).join(', ') || 'none defined'})` });
    }
  });

export type JobsConfig = z.output<typeof jobsConfig>;
