/**
 * What workers and the control plane say to each other, whichever way it travels: in-process for the
 * local worker of `anvil serve`, HTTP (`/api/workers/...`) for `anvil worker`. Both sides validate
 * with these schemas; `ControlPlane` is the port the worker agent talks to.
 */
import * as z from 'zod';

export const STOP_REASONS = ['cancelled', 'preempted'] as const;
export type StopWhy = (typeof STOP_REASONS)[number];

/** Where a resumed job picks up: the recipe's checkpoint, its file kept on the control plane by content. */
export const storedCheckpointSchema = z.object({
  step: z.number().int().min(0),
  state: z.record(z.string(), z.unknown()).optional(),
  /** The checkpoint file as a blob; absent when the recipe's state says everything. */
  blob: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().min(0), name: z.string().min(1).max(200) }).optional(),
});
export type StoredCheckpoint = z.infer<typeof storedCheckpointSchema>;

export const registerRequestSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a worker name is 1-100 characters of letters, digits, ".", "_" or "-"'),
  capabilities: z.record(z.string(), z.unknown()),
  resourceClasses: z.array(z.string()).min(1),
  slots: z.number().int().min(1).max(256),
  recipes: z.array(z.string().min(1).max(200)).max(1000),
});
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

export interface RegisterResponse {
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
  graceMs: number;
  /** Jobs this worker id held before (a restart): they have been handed back to the queue. */
  requeued: string[];
}

export const heartbeatRequestSchema = z.object({
  telemetry: z.record(z.string(), z.unknown()).nullable(),
  running: z.array(z.string()).max(1000),
});
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

export interface HeartbeatResponse {
  /** Running jobs of this worker that must stop (the pub/sub message may have been missed). */
  stop: Array<{ jobId: string; why: StopWhy }>;
}

/** What a worker needs to run a job it claimed. */
export interface ClaimedJob {
  id: string;
  project: string;
  recipe: string;
  params: Record<string, unknown>;
  attempt: number;
  resources: { gpus: number; gpuType?: string; minVramGb?: number; cpus: number; memoryGb: number };
  timeoutMs: number;
  checkpoint: StoredCheckpoint | null;
  /** Blobs to download into `<workDir>/inputs/<name>` before starting (paths in params are relative to the work dir). */
  inputs: Array<{ name: string; sha256: string }>;
}

export type ClaimResponse = { outcome: 'claimed'; job: ClaimedJob } | { outcome: 'lost'; state: string };

export const reportRequestSchema = z.object({
  attempt: z.number().int().min(1),
  /** Unique per batch and kept when the batch is retried, so its log lines are stored once. */
  reportId: z.string().min(1).max(100).optional(),
  logs: z
    .array(z.object({ level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), at: z.string().datetime().optional() }))
    .max(10_000)
    .default([]),
  metrics: z
    .array(
      z.object({
        name: z.string().min(1).max(200),
        step: z.number().int().min(0),
        value: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]),
        at: z.string().datetime().optional(),
      }),
    )
    .max(10_000)
    .default([]),
  checkpoint: storedCheckpointSchema.optional(),
});
export type ReportRequest = z.input<typeof reportRequestSchema>;

export const finishRequestSchema = z.object({
  attempt: z.number().int().min(1),
  outcome: z.discriminatedUnion('status', [
    z.object({ status: z.literal('succeeded'), result: z.record(z.string(), z.unknown()) }),
    z.object({
      status: z.literal('failed'),
      reason: z.string().min(1).max(100),
      message: z.string().max(10_000),
      lastLogs: z.array(z.string()).max(100),
      exitCode: z.number().int().nullable(),
      signal: z.string().nullable(),
      unrecoverable: z.boolean(),
    }),
    z.object({ status: z.literal('stopped'), why: z.enum(STOP_REASONS) }),
  ]),
  checkpoint: storedCheckpointSchema.nullable().optional(),
});
export type FinishRequest = z.input<typeof finishRequestSchema>;

export interface FinishResponse {
  /** Where the job went: succeeded, failed, cancelled, or queued again (retry, preemption). */
  state: string;
}

export interface ArtifactRecord {
  id: string;
  jobId: string;
  name: string;
  sha256: string;
  size: number;
  mediaType: string;
  createdAt: string;
}

/** A message on the control channel (Redis pub/sub, or in-process in embedded mode). */
export type ControlMessage =
  /** Stop a job on whichever worker runs it. */
  | { type: 'stop'; jobId: string; worker: string; why: StopWhy }
  /** Something about a job changed: its state, its log, its metrics, its artifacts. */
  | { type: 'job'; project: string; jobId: string; kind: 'state' | 'logs' | 'metrics' | 'artifact'; state?: string };

/** The worker's view of the control plane. */
export interface ControlPlane {
  register(request: RegisterRequest): Promise<RegisterResponse>;
  /** CONFLICT (ANVIL_E_CONFLICT) when the worker was marked lost: stop everything and register again. */
  heartbeat(workerId: string, request: HeartbeatRequest): Promise<HeartbeatResponse>;
  claim(workerId: string, jobId: string): Promise<ClaimResponse>;
  report(workerId: string, jobId: string, request: ReportRequest): Promise<void>;
  finish(workerId: string, jobId: string, request: FinishRequest): Promise<FinishResponse>;
  /** Stores a file by content; refused (ANVIL_E_CHECKSUM_MISMATCH) when it does not hash to `sha256`. */
  putBlob(sha256: string, file: string): Promise<{ sha256: string; size: number }>;
  /** Writes a stored blob to `file`. */
  getBlob(sha256: string, file: string): Promise<void>;
  /** Stores a checkpoint file of a job this worker holds (kept until a newer one is recorded or the job ends). */
  putCheckpoint(workerId: string, jobId: string, sha256: string, file: string): Promise<{ sha256: string; size: number }>;
  /** Writes a checkpoint of a job this worker holds (it resumes from it) to `file`. */
  getCheckpoint(workerId: string, jobId: string, sha256: string, file: string): Promise<void>;
  /** Records a job's artifact from a stored blob. */
  putArtifact(workerId: string, jobId: string, artifact: { name: string; sha256: string; mediaType: string }): Promise<ArtifactRecord>;
  /** Leaving on purpose: running jobs go back to the queue. */
  retire(workerId: string): Promise<void>;
}
