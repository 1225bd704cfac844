/**
 * What the job store takes and gives back (besides the records in rows.ts): its method inputs and
 * outcomes. Re-exported by store.ts.
 */
import type { JobResourcesInput } from './resources.ts';
import type { Job, JobError, LogLevel, LogLine, WorkerState, WorkerWithJobs } from './rows.ts';
import type { JobState } from './states.ts';


export interface SubmitInput {
  recipe: string;
  params?: Record<string, unknown>;
  resources?: JobResourcesInput;
  priority?: number;
  /** Submitting again with the same key in the project returns the first job (created: false). */
  idempotencyKey?: string;
  /** Job ids of the same project that must succeed first. */
  dependsOn?: readonly string[];
  maxAttempts?: number;
  /** Wall-clock limit of one attempt (default 24 h). */
  timeoutMs?: number;
  /** Blobs the worker downloads into `<workDir>/inputs/<name>` first (the caller checks they exist). */
  inputs?: ReadonlyArray<{ name: string; sha256: string }>;
}

export interface SubmitOptions {
  /**
   * Hand the job to BullMQ at once (`dispatched_at` set with the insert) instead of holding it for
   * admission: the dispatcher's choice when nothing could hold it back (no quota, no dependencies).
   */
  dispatch?: boolean;
}

export interface SubmitResult {
  job: Job;
  /** false when the idempotency key named an existing job with the same content. */
  created: boolean;
}

export interface TransitionInput {
  /** The states the caller believes the job is in; the move happens only from one of them. */
  from: readonly JobState[];
  to: JobState;
  reason: string;
  /** Required to move to running (the claimer); elsewhere recorded when given. */
  worker?: string;
  checkpoint?: unknown;
  result?: unknown;
  error?: JobError;
  /** Fencing: move only if the job is held by this worker and/or on this attempt (a stale worker gets CONFLICT). */
  expect?: { worker?: string; attempt?: number };
  /** Only a job of this project (NOT_FOUND otherwise). */
  project?: string;
  /** Extra fields for the event's details. */
  details?: Record<string, unknown>;
}

export type ClaimResult =
  | { outcome: 'claimed'; job: Job }
  /** Another claimer won, or the job left the queue (cancelled, failed) before this claim. */
  | { outcome: 'lost'; state: JobState; worker: string | null };

export interface RequeueOptions {
  /** Whether this requeue uses up an attempt (default true; false for preemption). */
  countAttempt?: boolean;
  /** Fencing: only if the job is still held by this worker. */
  worker?: string;
  details?: Record<string, unknown>;
  /** Retry backoff: the job is not dispatched again before this many ms from now. */
  notBeforeMs?: number;
  /** What went wrong, kept on the job if this was its last attempt. */
  error?: JobError;
}

export interface RequeueResult {
  /** requeued; failed when no attempt was left; cancelled when a cancel had been asked for. */
  outcome: 'requeued' | 'failed' | 'cancelled';
  job: Job;
}

export interface CancelResult {
  /** cancelled at once (it was queued); cancel-requested (it runs; its worker stops it); already-requested. */
  outcome: 'cancelled' | 'cancel-requested' | 'already-requested';
  job: Job;
}

export interface ListOptions {
  states?: readonly JobState[];
  recipe?: string;
  /** 1..100, default 20. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface JobPage {
  jobs: Job[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface LogLineInput {
  message: string;
  level?: LogLevel;
  at?: Date;
}

export interface AppendLogsResult {
  count: number;
  /** The seq numbers given to the batch (null for an empty batch). */
  firstSeq: number | null;
  lastSeq: number | null;
}

export interface LogsOptions {
  /** Lines after this seq, oldest first (default 0: from the start). */
  afterSeq?: number;
  /** Instead: the newest `tail` lines (that fit the budget). */
  tail?: number;
  /** Budget for message text, in UTF-8 bytes: never exceeded (default 16 KiB, at most 1 MiB). */
  maxBytes?: number;
  /** At most this many lines (default and max 1,000). */
  maxLines?: number;
}

export interface LogPage {
  lines: LogLine[];
  /** Pass as `afterSeq` to read on: the seq of the last line returned (afterSeq itself when none was). */
  nextSeq: number;
  /** How many lines the job had when read (its highest seq). */
  lastSeq: number;
  /** Lines were left out: after the page (afterSeq reads) or before it (tail reads). */
  truncated: boolean;
}

export interface MetricPointInput {
  name: string;
  step: number;
  value: number;
  at?: Date;
}

export type DependencyStatus =
  | { status: 'satisfied' }
  | { status: 'waiting'; waitingOn: string[] }
  /** A dependency failed, was cancelled or is gone: the dependent can never run (fail it). */
  | { status: 'failed'; failed: Array<{ id: string; state: JobState | 'missing' }> };

export interface RegisterWorkerInput {
  id: string;
  name: string;
  capabilities: Record<string, unknown>;
  resourceClasses: readonly string[];
  leaseMs: number;
  /** Jobs it runs at once (default 1). */
  slots?: number;
  /** Recipe names it can run. */
  recipes?: readonly string[];
}

export type MarkLostResult = { marked: true; worker: WorkerWithJobs } | { marked: false; state: WorkerState };
