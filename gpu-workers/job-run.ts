/**
 * Runs one claimed job on a worker: prepares its work dir (fetching the checkpoint file it resumes
 * from), starts the recipe, forwards logs and metrics in batches, uploads checkpoints and artifacts
 * by content, and reports the outcome. Everything the control plane is told is fenced by worker and
 * attempt, so a worker that was declared lost cannot overwrite what its successor does.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../contracts/errors.ts';
import { encodeMetricValue, type CheckpointRef, type RecipeEvent } from './protocol.ts';
import { baseRecipeEnv, startRecipe, type RecipeRun, type RunOutcome } from './runner.ts';
import type { ClaimedJob, ControlPlane, FinishRequest, ReportRequest, StopWhy, StoredCheckpoint } from '../contracts/wire.ts';

/** Forward logs and metrics at least this often while a recipe runs. */
const FLUSH_MS = 200;
const FLUSH_LINES = 500;
/** How long a reported checkpoint waits before its upload starts (see onEvent). */
const CHECKPOINT_SETTLE_MS = 25;

export interface ResolvedRecipe {
  command: string;
  args: string[];
}

export interface JobRunOptions {
  control: ControlPlane;
  workerId: string;
  job: ClaimedJob;
  recipe: ResolvedRecipe;
  workRoot: string;
  gpus: readonly number[];
  graceMs: number;
  log: Logger;
}

type ReportLog = NonNullable<ReportRequest['logs']>[number];
type ReportMetric = NonNullable<ReportRequest['metrics']>[number];

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class JobRun {
  private run: RecipeRun | undefined;
  private pendingStop: StopWhy | undefined;
  private logs: ReportLog[] = [];
  private metrics: ReportMetric[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Reports and uploads go out one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private latestCheckpoint: StoredCheckpoint | null;
  /** The newest checkpoint the recipe reported that is not uploaded yet (older ones are skipped). */
  private queuedCheckpoint: CheckpointRef | undefined;
  /** The upload loop while it runs (awaited before finishing, never polled). */
  private uploading: Promise<void> | undefined;
  /** The recipe reported its result: a checkpoint not yet uploaded is only worth uploading if the run then fails. */
  private resultSeen = false;
  /** The run ended and drainCheckpoints decides what is still uploaded. */
  private draining = false;
  private artifactFailure: string | undefined;
  private readonly workDir: string;

  constructor(private readonly options: JobRunOptions) {
    this.latestCheckpoint = options.job.checkpoint;
    this.workDir = path.join(options.workRoot, options.job.id, `attempt-${options.job.attempt}`);
  }

  get jobId(): string {
    return this.options.job.id;
  }

  /** Stops the recipe (SIGTERM, grace, SIGKILL); before it started, it never starts. */
  stop(why: StopWhy): void {
    if (this.pendingStop === 'cancelled') return;
    this.pendingStop = why;
    this.run?.stop(why);
  }

  /** Runs to the end and reports it; resolves with the state the control plane put the job in. */
  async execute(): Promise<string> {
    const { job, control, workerId, log } = this.options;
    let outcome: RunOutcome | { status: 'failed'; reason: string; message: string; unrecoverable: boolean } ;
    try {
      await rm(this.workDir, { recursive: true, force: true });
      await mkdir(this.workDir, { recursive: true });
      await this.fetchInputs();
      const resume = await this.fetchCheckpoint();
      if (this.pendingStop) {
        outcome = { status: 'stopped', why: this.pendingStop, pid: null, durationMs: 0, lastCheckpoint: null, leftoverPids: [], exitCode: null, signal: null };
      } else {
        const env = { ...baseRecipeEnv(), ...(this.options.gpus.length > 0 ? { CUDA_VISIBLE_DEVICES: this.options.gpus.join(',') } : {}) };
        this.run = startRecipe({
          command: this.options.recipe.command,
          args: this.options.recipe.args,
          spec: { jobId: job.id, recipe: job.recipe, params: job.params, attempt: job.attempt, workDir: this.workDir, resume: resume ? { checkpoint: resume } : null },
          env,
          cwd: this.workDir,
          timeoutMs: job.timeoutMs,
          graceMs: this.options.graceMs,
          onEvent: (event) => this.onEvent(event),
        });
        if (this.pendingStop) this.run.stop(this.pendingStop);
        this.timer = setInterval(() => this.flush(), FLUSH_MS);
        outcome = await this.run.outcome;
      }
    } catch (error) {
      outcome = { status: 'failed', reason: 'worker', message: `the worker could not run the recipe: ${errorMessage(error)}`, unrecoverable: false };
    } finally {
      clearInterval(this.timer);
    }
    this.flush();
    await this.chain;
    await this.drainCheckpoints(outcome.status === 'succeeded');
    const finish = this.finishRequest(outcome);
    const response = await control.finish(workerId, job.id, finish);
    log.info({ jobId: job.id, attempt: job.attempt, outcome: finish.outcome.status, state: response.state }, 'job finished on this worker');
    await rm(path.join(this.options.workRoot, job.id), { recursive: true, force: true }).catch(() => {});
    return response.state;
  }

  private finishRequest(outcome: RunOutcome | { status: 'failed'; reason: string; message: string; unrecoverable: boolean }): FinishRequest {
    const attempt = this.options.job.attempt;
    const checkpoint = this.latestCheckpoint;
    if (outcome.status === 'succeeded' && this.artifactFailure) {
      return {
        attempt,
        checkpoint,
        outcome: { status: 'failed', reason: 'artifact', message: this.artifactFailure, lastLogs: [], exitCode: 0, signal: null, unrecoverable: true },
      };
    }
    if (outcome.status === 'succeeded') return { attempt, checkpoint, outcome: { status: 'succeeded', result: outcome.result } };
    if (outcome.status === 'stopped') return { attempt, checkpoint, outcome: { status: 'stopped', why: outcome.why } };
    if ('lastLogs' in outcome) {
      return {
        attempt,
        checkpoint,
        outcome: {
          status: 'failed',
          reason: outcome.reason,
          message: outcome.message,
          lastLogs: [...outcome.lastLogs],
          exitCode: outcome.exitCode,
          signal: outcome.signal,
          unrecoverable: outcome.unrecoverable,
        },
      };
    }
    return {
      attempt,
      checkpoint,
      outcome: { status: 'failed', reason: outcome.reason, message: outcome.message, lastLogs: [], exitCode: null, signal: null, unrecoverable: outcome.unrecoverable },
    };
  }

  /** Downloads the job's input blobs into `<workDir>/inputs/`, where its params refer to them. */
  private async fetchInputs(): Promise<void> {
    if (this.options.job.inputs.length === 0) return;
    const dir = path.join(this.workDir, 'inputs');
    await mkdir(dir, { recursive: true });
    for (const input of this.options.job.inputs) await this.options.control.getBlob(input.sha256, path.join(dir, input.name));
  }

  /** Downloads the checkpoint file the job resumes from into this attempt's work dir. */
  private async fetchCheckpoint(): Promise<CheckpointRef | null> {
    const stored = this.options.job.checkpoint;
    if (!stored) return null;
    const file = path.join(this.workDir, 'resume', stored.blob?.name ?? `checkpoint-${stored.step}`);
    await mkdir(path.dirname(file), { recursive: true });
    if (stored.blob) await this.options.control.getCheckpoint(this.options.workerId, this.jobId, stored.blob.sha256, file);
    return { step: stored.step, path: file, ...(stored.state ? { state: stored.state } : {}) };
  }

  private onEvent(event: RecipeEvent): void {
    const at = new Date().toISOString();
    switch (event.type) {
      case 'log': {
        const level = event.level === 'stderr' || event.level === 'runner' ? 'warn' : event.level === 'stdout' ? 'info' : event.level;
        const prefix = event.level === 'stderr' ? '[stderr] ' : event.level === 'runner' ? '[runner] ' : '';
        this.logs.push({ level, message: `${prefix}${event.message}`, at });
        break;
      }
      case 'metric':
        this.metrics.push({ name: event.name, step: event.step, value: encodeMetricValue(event.value), at });
        break;
      case 'invalid':
        this.logs.push({ level: 'warn', message: `[runner] ignored an invalid ${event.messageType ?? 'protocol'} line: ${event.message}`, at });
        break;
      case 'checkpoint':
        this.queuedCheckpoint = { step: event.step, path: event.path, ...(event.state ? { state: event.state } : {}) };
        // Started a moment later: a result right behind it (a short run ending) makes the upload
        // moot, and the exit uploads it anyway when the run did not succeed.
        setTimeout(() => {
          if (!this.resultSeen && !this.draining) void this.uploadCheckpoints();
        }, CHECKPOINT_SETTLE_MS).unref();
        break;
      case 'artifact':
        this.enqueue(async () => {
          try {
            const stored = await this.options.control.putBlob(event.sha256, event.path);
            await this.options.control.putArtifact(this.options.workerId, this.jobId, {
              name: event.name,
              sha256: stored.sha256,
              mediaType: event.mediaType ?? 'application/octet-stream',
            });
          } catch (error) {
            this.artifactFailure = `artifact ${event.name} was refused: ${errorMessage(error)}`;
            this.logs.push({ level: 'error', message: `[runner] ${this.artifactFailure}`, at: new Date().toISOString() });
          }
        });
        break;
      case 'error':
        this.logs.push({ level: 'error', message: `[recipe error] ${event.message}`, at });
        break;
      case 'result':
        this.resultSeen = true;
        break;
    }
    if (this.logs.length + this.metrics.length >= FLUSH_LINES) this.flush();
  }

  /** Sends what is batched (in order with uploads). A failed report is logged, not fatal: the recipe keeps running. */
  private flush(): void {
    if (this.logs.length === 0 && this.metrics.length === 0) return;
    const request: ReportRequest = { attempt: this.options.job.attempt, reportId: randomUUID(), logs: this.logs, metrics: this.metrics };
    this.logs = [];
    this.metrics = [];
    this.enqueue(() => this.options.control.report(this.options.workerId, this.jobId, request));
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((error: unknown) => {
      this.options.log.warn({ err: error, jobId: this.jobId }, 'a report to the control plane failed');
    });
  }

  /** Uploads the newest checkpoint, skipping ones superseded while an upload was in flight. */
  private uploadCheckpoints(): Promise<void> {
    this.uploading ??= this.uploadQueued().finally(() => {
      this.uploading = undefined;
    });
    return this.uploading;
  }

  private async uploadQueued(): Promise<void> {
    while (this.queuedCheckpoint) {
      const ref = this.queuedCheckpoint;
      this.queuedCheckpoint = undefined;
      try {
        const sha256 = await sha256File(ref.path);
        const blob = await this.options.control.putCheckpoint(this.options.workerId, this.jobId, sha256, ref.path);
        const stored: StoredCheckpoint = { step: ref.step, ...(ref.state ? { state: ref.state } : {}), blob: { ...blob, name: path.basename(ref.path) } };
        this.flush();
        await this.chain;
        await this.options.control.report(this.options.workerId, this.jobId, { attempt: this.options.job.attempt, checkpoint: stored });
        this.latestCheckpoint = stored;
      } catch (error) {
        this.options.log.warn({ err: error, jobId: this.jobId, step: ref.step }, 'could not upload a checkpoint; keeping the previous one');
      }
    }
  }

  /**
   * Before the finish: the upload in flight completes; a checkpoint still queued is uploaded only
   * when the run did not succeed (a retry resumes from it). A succeeded job's checkpoint files are
   * all removed when it ends, so uploading one then is only time spent between the exit and
   * `succeeded`: its record keeps the step and state it got to, without a file.
   */
  private async drainCheckpoints(succeeded: boolean): Promise<void> {
    this.draining = true;
    const unsent = succeeded ? this.queuedCheckpoint : undefined;
    if (unsent) this.queuedCheckpoint = undefined;
    while (this.uploading || this.queuedCheckpoint) await this.uploadCheckpoints();
    if (unsent) this.latestCheckpoint = { step: unsent.step, ...(unsent.state ? { state: unsent.state } : {}) };
  }
}
