/**
 * The records the job store hands out, and how database rows become them. `bigint` columns arrive
 * from `pg` as strings and are turned into numbers here (sequence numbers stay far below 2^53).
 */
import type { ArtifactRecord } from '../../contracts/wire.ts';
import type { JobResources } from './resources.ts';
import type { JobState } from './states.ts';

export type JsonObject = Record<string, unknown>;

/** Why a job failed: what the recipe or the worker reported (`code` is machine-readable when present). */
export interface JobError {
  message: string;
  code?: string;
  [key: string]: unknown;
}

export interface Job {
  id: string;
  project: string;
  recipe: string;
  params: JsonObject;
  resources: JobResources;
  /** `gpu-<type>`, `gpu-any` or `cpu` (BullMQ queue names cannot hold ':'). */
  resourceClass: string;
  /** Higher runs first. */
  priority: number;
  state: JobState;
  /** The attempt the job is on, or will start next (from 1). */
  attempt: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  /** Sorted job ids of the same project that must succeed first. */
  dependsOn: string[];
  /** The worker running the current attempt; after the job ends, the one that ran it last. */
  worker: string | null;
  /** The last checkpoint the recipe saved; a requeued job resumes from it. */
  checkpoint: unknown;
  result: unknown;
  error: JobError | null;
  /** A cancel was asked for while the job ran; the worker stops it. */
  cancelRequested: boolean;
  /** The control plane asked its worker to checkpoint and yield to a higher-priority job. */
  preemptRequested: boolean;
  /** How many log lines the job has (the highest log seq). */
  logLines: number;
  /** Hand-offs to BullMQ so far; the BullMQ job id is `<id>-<dispatchSeq>`. */
  dispatchSeq: number;
  /** Set while a queued job sits in BullMQ; null while it is held (dependencies, quota, backoff). */
  dispatchedAt: Date | null;
  /** Retry backoff: not dispatched before this time. */
  notBefore: Date | null;
  /** Wall-clock limit of one attempt. */
  timeoutMs: number;
  /** Blobs the worker puts in `<workDir>/inputs/<name>` before the recipe starts. */
  inputs: Array<{ name: string; sha256: string }>;
  createdAt: Date;
  /** When it was last put in the queue (submission, or the latest requeue). */
  queuedAt: Date;
  /** When the current (or last) attempt started. */
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export interface JobEvent {
  id: number;
  at: Date;
  /** null for the submission. */
  from: JobState | null;
  to: JobState;
  reason: string;
  details: JsonObject;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  seq: number;
  at: Date;
  level: LogLevel;
  message: string;
  /** The line alone was over the page's byte budget and was cut to fit it. */
  cut?: true;
}

export interface MetricPoint {
  name: string;
  step: number;
  /** NaN and ±Infinity come back as they were reported. */
  value: number;
  at: Date;
}

export type WorkerState = 'active' | 'lost' | 'gone';

export interface Worker {
  id: string;
  name: string;
  capabilities: JsonObject;
  /** The queues it consumes: `cpu`, `gpu-any`, `gpu-<type>`. */
  resourceClasses: string[];
  /** How many jobs it runs at once. */
  slots: number;
  /** Recipe names it can run. */
  recipes: string[];
  state: WorkerState;
  registeredAt: Date;
  lastHeartbeat: Date;
  leaseExpiresAt: Date;
  telemetry: unknown;
}

export interface WorkerWithJobs extends Worker {
  /** Ids of the jobs running under this worker. */
  runningJobs: string[];
}

// -------------------------------------------------------------------------------------------------
// Rows

export type JobRow = {
  id: string;
  seq: string;
  project: string;
  recipe: string;
  params: unknown;
  resources: unknown;
  resource_class: string;
  priority: number;
  state: string;
  attempt: number;
  max_attempts: number;
  idempotency_key: string | null;
  depends_on: string[];
  worker: string | null;
  checkpoint: unknown;
  result: unknown;
  error: unknown;
  cancel_requested: boolean;
  preempt_requested: boolean;
  log_seq: string;
  dispatch_seq: number;
  dispatched_at: Date | null;
  not_before: Date | null;
  timeout_ms: number;
  inputs: Array<{ name: string; sha256: string }> | null;
  created_at: Date;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
};

export type EventRow = {
  id: string;
  at: Date;
  from_state: string | null;
  to_state: string;
  reason: string;
  details: unknown;
};

export type LogRow = {
  seq: string;
  at: Date;
  level: string;
  message: string;
  running: string;
};

export type MetricRow = {
  name: string;
  step: string;
  value: number;
  at: Date;
};

export type WorkerRow = {
  id: string;
  name: string;
  capabilities: unknown;
  resource_classes: string[];
  slots: number;
  recipes: string[];
  state: string;
  registered_at: Date;
  last_heartbeat: Date;
  lease_expires_at: Date;
  telemetry: unknown;
  running_jobs?: string[] | null;
};

export type ArtifactRow = { id: string; job_id: string; name: string; sha256: string; size: string; media_type: string; created_at: Date };

export function toArtifact(row: ArtifactRow): ArtifactRecord {
  return { id: row.id, jobId: row.job_id, name: row.name, sha256: row.sha256, size: Number(row.size), mediaType: row.media_type, createdAt: row.created_at.toISOString() };
}

function objectOr(value: unknown, fallback: JsonObject): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : fallback;
}

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    project: row.project,
    recipe: row.recipe,
    params: objectOr(row.params, {}),
    resources: row.resources as JobResources,
    resourceClass: row.resource_class,
    priority: row.priority,
    state: row.state as JobState,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    idempotencyKey: row.idempotency_key,
    dependsOn: row.depends_on,
    worker: row.worker,
    checkpoint: row.checkpoint,
    result: row.result,
    error: row.error === null ? null : (row.error as JobError),
    cancelRequested: row.cancel_requested,
    preemptRequested: row.preempt_requested,
    logLines: Number(row.log_seq),
    dispatchSeq: row.dispatch_seq,
    dispatchedAt: row.dispatched_at,
    notBefore: row.not_before,
    timeoutMs: row.timeout_ms,
    inputs: row.inputs ?? [],
    createdAt: row.created_at,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

export function toEvent(row: EventRow): JobEvent {
  return {
    id: Number(row.id),
    at: row.at,
    from: row.from_state as JobState | null,
    to: row.to_state as JobState,
    reason: row.reason,
    details: objectOr(row.details, {}),
  };
}

export function toMetricPoint(row: MetricRow): MetricPoint {
  return { name: row.name, step: Number(row.step), value: row.value, at: row.at };
}

export function toWorker(row: WorkerRow): Worker {
  return {
    id: row.id,
    name: row.name,
    capabilities: objectOr(row.capabilities, {}),
    resourceClasses: row.resource_classes,
    slots: row.slots,
    recipes: row.recipes,
    state: row.state as WorkerState,
    registeredAt: row.registered_at,
    lastHeartbeat: row.last_heartbeat,
    leaseExpiresAt: row.lease_expires_at,
    telemetry: row.telemetry,
  };
}

export function toWorkerWithJobs(row: WorkerRow): WorkerWithJobs {
  return { ...toWorker(row), runningJobs: row.running_jobs ?? [] };
}
