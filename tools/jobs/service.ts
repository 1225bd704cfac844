/**
 * The control plane of the job system: what tools call (submit, cancel) and what workers call
 * (`ControlPlane`: register, heartbeat, claim, report, finish, blobs, artifacts), in-process for the
 * local worker and through `/api/workers` for remote ones. Every state change goes through the
 * store (one transaction, one event); after it, the service re-admits the project's held jobs,
 * fails dependents that can never run, and announces the change on the control bus.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { AnvilError, ErrorCodes, type Logger, type PluginSql, type RecipeSpec, loadSql } from 'anvil/plugin';
import {
  finishRequestSchema,
  heartbeatRequestSchema,
  registerRequestSchema,
  reportRequestSchema,
  storedCheckpointSchema,
  type ArtifactRecord,
  type ClaimResponse,
  type ControlPlane,
  type FinishRequest,
  type FinishResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type RegisterRequest,
  type RegisterResponse,
  type ReportRequest,
  type StoredCheckpoint,
} from '../../contracts/wire.ts';
import type { BlobStore } from './blobs.ts';
import { isLimited, type Dispatcher } from './dispatch.ts';
import { toArtifact, type ArtifactRow, type CancelResult, type Job, type JobStore, type SubmitInput, type SubmitResult, type TransitionInput } from './store.ts';
import { parseWith } from './parse.ts';
import type { TelemetryRecorder } from './telemetry.ts';
import { type ControlBus } from '../../gpu-workers/index.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = {
  holder: sql('job-holder'),
  stopRequests: sql('stop-requests'),
  workerState: sql('worker-state'),
  artifactInsert: sql('artifact-insert'),
  checkpointSave: sql('checkpoint-save'),
  artifactsList: sql('artifacts-list'),
  reportMark: sql('report-mark'),
} as const;

export interface JobsSettings {
  leaseMs: number;
  heartbeatMs: number;
  graceMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  defaultTimeoutMs: number;
}

export interface JobServiceDeps {
  sql: PluginSql;
  store: JobStore;
  dispatcher: Dispatcher;
  bus: ControlBus;
  blobs: BlobStore;
  /** Recipes any plugin registered, by name (submissions are checked against them). */
  recipes: () => ReadonlyMap<string, RecipeSpec>;
  settings: JobsSettings;
  log: Logger;
  /** Keeps GPU telemetry history from heartbeats (absent: only the latest is kept, on the worker row). */
  telemetry?: TelemetryRecorder;
}

type Holder = { state: string; worker: string | null; attempt: number; project: string; recipe: string; cancel_requested: boolean; preempt_requested: boolean };

/**
 * Runs when a job of a recipe has succeeded on its worker, before the job is marked succeeded: what
 * it returns is merged into the job's result (the training plugin registers the model and adds
 * `{model: {name, version}}`). A hook that throws fails the job (`finalize_failed`), not retried.
 */
export type SuccessHook = (job: Job, result: Record<string, unknown>, artifacts: ArtifactRecord[]) => Promise<Record<string, unknown> | undefined>;

function conflict(message: string, details: Record<string, unknown>): AnvilError {
  return new AnvilError(ErrorCodes.CONFLICT, message, { details });
}

function metricValue(value: number | 'NaN' | 'Infinity' | '-Infinity'): number {
  if (typeof value === 'number') return value;
  return value === 'NaN' ? Number.NaN : value === 'Infinity' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

const ACTIVE_CACHE_MS = 1_000;

export class JobService implements ControlPlane {
  readonly store: JobStore;
  private readonly deps: JobServiceDeps;
  private readonly activeWorkers = new Map<string, number>();
  private readonly successHooks = new Map<string, SuccessHook[]>();
  /** Recipes of jobs claimed through this control plane and not finished yet (a finish skips a lookup). */
  private readonly claimedRecipes = new Map<string, string>();

  constructor(deps: JobServiceDeps) {
    this.deps = deps;
    this.store = deps.store;
  }

  get settings(): JobsSettings {
    return this.deps.settings;
  }

  // -----------------------------------------------------------------------------------------------
  // Callers (tools)

  /** Checks the recipe and its params, queues the job, admits what the quota allows. */
  async submit(project: string, input: SubmitInput): Promise<SubmitResult> {
    const recipe = this.deps.recipes().get(input.recipe);
    if (!recipe) {
      const known = [...this.deps.recipes().keys()].sort();
      throw new AnvilError(ErrorCodes.INVALID_INPUT, `recipe: no recipe "${input.recipe}" is registered (known: ${known.join(', ') || 'none'})`, {
        details: { field: 'recipe', known },
      });
    }
    const params = recipe.params ? parseWith(recipe.params, input.params ?? {}, 'params') : (input.params ?? {});
    for (const [index, item] of (input.inputs ?? []).entries()) {
      // Touched, not only looked up: the garbage collector then keeps it while the job is being recorded.
      await this.deps.blobs.touch(item.sha256).catch(() => {
        throw new AnvilError(ErrorCodes.NOT_FOUND, `inputs[${index}] (${item.name}): no blob ${item.sha256} is stored`, { details: { field: `inputs[${index}]` } });
      });
    }
    // A caller picks a priority only within its project's range: the operator's ceiling caps it.
    const quota = await this.deps.dispatcher.quota(project);
    const requested = input.priority ?? 0;
    const priority = typeof requested === 'number' ? Math.min(requested, quota.maxPriority) : requested; // the store names a non-number
    // Nothing can hold back a job without dependencies in a project without a quota: it is
    // admitted with its insert (one round trip) instead of by a second statement.
    const dispatch = !isLimited(quota) && (input.dependsOn ?? []).length === 0;
    const submitted = await this.store.submit(project, { ...input, params, priority, timeoutMs: input.timeoutMs ?? this.deps.settings.defaultTimeoutMs }, { dispatch });
    if (!submitted.created) return submitted;
    this.announce(submitted.job);
    if (submitted.job.dispatchedAt !== null) {
      await this.deps.dispatcher.pushDispatched(submitted.job);
      return submitted;
    }
    if (submitted.job.dependsOn.length > 0) {
      const dependencies = await this.store.dependenciesSatisfied(submitted.job.id);
      if (dependencies.status === 'failed') {
        const failed = await this.failUnrunnable(submitted.job.id, dependencies.failed.map((d) => `${d.id} (${d.state})`).join(', '));
        return { job: failed ?? submitted.job, created: true };
      }
    }
    const admitted = await this.deps.dispatcher.admit(project);
    if (!admitted.includes(submitted.job.id)) return submitted;
    return { job: { ...submitted.job, dispatchSeq: submitted.job.dispatchSeq + 1, dispatchedAt: new Date() }, created: true };
  }

  /** Cancels a queued job at once; asks the worker of a running one to stop it (any node). */
  async cancel(project: string, jobId: string, reason?: string): Promise<CancelResult> {
    const outcome = await this.store.requestCancel(project, jobId, reason ?? 'cancelled by a caller');
    if (outcome.outcome === 'cancel-requested' && outcome.job.worker) {
      await this.deps.bus.publish({ type: 'stop', jobId: outcome.job.id, worker: outcome.job.worker, why: 'cancelled' }).catch((error: unknown) => {
        this.deps.log.warn({ err: error, jobId: outcome.job.id }, 'could not publish a stop; the worker learns of it at its next heartbeat');
      });
    }
    if (outcome.outcome === 'cancelled') await this.afterEnd(outcome.job);
    else this.announce(outcome.job);
    return outcome;
  }

  // -----------------------------------------------------------------------------------------------
  // Workers (ControlPlane)

  async register(request: RegisterRequest): Promise<RegisterResponse> {
    const input = parseWith(registerRequestSchema, request, 'worker registration');
    const { settings } = this.deps;
    const worker = await this.store.registerWorker({
      id: input.name,
      name: input.name,
      capabilities: input.capabilities,
      resourceClasses: input.resourceClasses,
      leaseMs: settings.leaseMs,
      slots: input.slots,
      recipes: input.recipes,
    });
    const requeued: string[] = [];
    for (const jobId of worker.runningJobs) {
      const result = await this.store.requeue(jobId, `worker ${worker.id} restarted; resuming from the last checkpoint`, undefined, { worker: worker.id }).catch(() => null);
      if (result) {
        requeued.push(jobId);
        await this.afterEnd(result.job);
      }
    }
    this.deps.log.info({ worker: worker.id, classes: worker.resourceClasses, slots: worker.slots }, 'worker registered');
    return { workerId: worker.id, leaseMs: settings.leaseMs, heartbeatMs: settings.heartbeatMs, graceMs: settings.graceMs, requeued };
  }

  async heartbeat(workerId: string, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    const input = parseWith(heartbeatRequestSchema, request, 'heartbeat');
    await this.store.heartbeat(workerId, input.telemetry, this.deps.settings.leaseMs);
    // Into memory only; the recorder writes history off this path (tools/jobs/telemetry.ts).
    this.deps.telemetry?.offer(workerId, input.telemetry);
    const { rows } = await this.deps.sql.query<{ id: string; why: 'cancelled' | 'preempted' }>(SQL.stopRequests, [workerId]);
    return { stop: rows.map((row) => ({ jobId: row.id, why: row.why })) };
  }

  async claim(workerId: string, jobId: string): Promise<ClaimResponse> {
    await this.requireActive(workerId);
    const claimed = await this.store.claim(jobId, workerId);
    if (claimed.outcome === 'lost') return { outcome: 'lost', state: claimed.state };
    const { job } = claimed;
    if (this.claimedRecipes.size > 100_000) this.claimedRecipes.clear();
    this.claimedRecipes.set(job.id, job.recipe);
    this.announce(job);
    const checkpoint = storedCheckpointSchema.safeParse(job.checkpoint);
    return {
      outcome: 'claimed',
      job: {
        id: job.id,
        project: job.project,
        recipe: job.recipe,
        params: job.params,
        attempt: job.attempt,
        resources: job.resources,
        timeoutMs: job.timeoutMs,
        checkpoint: checkpoint.success ? checkpoint.data : null,
        inputs: job.inputs,
      },
    };
  }

  async report(workerId: string, jobId: string, request: ReportRequest): Promise<void> {
    const input = parseWith(reportRequestSchema, request, 'report');
    const holder = await this.holder(jobId, workerId, input.attempt);
    if (input.reportId !== undefined && input.logs.length > 0) {
      const fresh = await this.deps.sql.query(SQL.reportMark, [jobId, input.reportId]);
      if (fresh.rowCount === 0) return; // a retry of a batch already stored
    }
    if (input.logs.length > 0) {
      await this.store.appendLogs(
        jobId,
        input.logs.map((line) => ({ level: line.level, message: line.message, ...(line.at ? { at: new Date(line.at) } : {}) })),
      );
    }
    if (input.metrics.length > 0) {
      await this.store.appendMetrics(
        jobId,
        input.metrics.map((point) => ({ name: point.name, step: point.step, value: metricValue(point.value), ...(point.at ? { at: new Date(point.at) } : {}) })),
      );
    }
    if (input.checkpoint) await this.saveCheckpoint(jobId, workerId, input.attempt, input.checkpoint);
    const kind = input.metrics.length > 0 ? 'metrics' : 'logs';
    if (input.logs.length > 0 || input.metrics.length > 0) {
      await this.publish({ type: 'job', project: holder.project, jobId, kind });
      if (input.logs.length > 0 && input.metrics.length > 0) await this.publish({ type: 'job', project: holder.project, jobId, kind: 'logs' });
    }
  }

  async finish(workerId: string, jobId: string, request: FinishRequest): Promise<FinishResponse> {
    const input = parseWith(finishRequestSchema, request, 'finish');
    // Succeeding and cancelling are fenced by `expect` in the transition itself; the requeue paths check here.
    if (input.outcome.status === 'failed' || (input.outcome.status === 'stopped' && input.outcome.why === 'preempted')) await this.holder(jobId, workerId, input.attempt);
    const expect = { worker: workerId, attempt: input.attempt };
    const checkpoint = input.checkpoint ?? undefined;
    const { outcome } = input;
    let job: Job;
    let dependents: string[] | undefined;
    const end = async (move: TransitionInput): Promise<Job> => {
      const ended = await this.store.transitionWithDependents(jobId, { ...move, from: ['running'], expect, checkpoint });
      dependents = ended.dependents;
      return ended.job;
    };
    if (outcome.status === 'succeeded') {
      const finalized = await this.finalize(jobId, workerId, input.attempt, outcome.result);
      job =
        'error' in finalized
          ? await end({ from: ['running'], to: 'failed', reason: finalized.error.message, error: finalized.error })
          : await end({ from: ['running'], to: 'succeeded', reason: 'the recipe finished', result: finalized.result });
    } else if (outcome.status === 'stopped' && outcome.why === 'cancelled') {
      job = await end({ from: ['running'], to: 'cancelled', reason: 'cancelled: the recipe was stopped' });
    } else if (outcome.status === 'stopped') {
      job = (await this.store.requeue(jobId, 'preempted by a higher-priority job; resumes from its checkpoint', checkpoint, { countAttempt: false, worker: workerId })).job;
    } else {
      const error = {
        code: outcome.unrecoverable ? 'recipe_error' : `recipe_${outcome.reason}`,
        message: outcome.message,
        reason: outcome.reason,
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        lastLogs: outcome.lastLogs,
      };
      if (outcome.unrecoverable) {
        job = await end({ from: ['running'], to: 'failed', reason: `the recipe failed and said retrying will not help: ${outcome.message}`, error });
      } else {
        job = await this.retry(jobId, workerId, input.attempt, `attempt ${input.attempt} failed (${outcome.reason}): ${outcome.message}`, error, checkpoint);
      }
    }
    this.claimedRecipes.delete(jobId);
    await this.afterEnd(job, dependents);
    return { state: job.state };
  }

  async putBlob(sha256: string, file: string): Promise<{ sha256: string; size: number }> {
    const stored = await this.deps.blobs.putFile(sha256, file);
    return { sha256: stored.sha256, size: stored.size };
  }

  async getBlob(sha256: string, file: string): Promise<void> {
    await copyFile((await this.deps.blobs.get(sha256)).file, file);
  }

  async putCheckpoint(workerId: string, jobId: string, sha256: string, file: string): Promise<{ sha256: string; size: number }> {
    await this.holder(jobId, workerId);
    const stored = await this.deps.blobs.putCheckpoint(jobId, sha256, createReadStream(file));
    return { sha256: stored.sha256, size: stored.size };
  }

  async getCheckpoint(workerId: string, jobId: string, sha256: string, file: string): Promise<void> {
    await this.holder(jobId, workerId);
    await copyFile((await this.deps.blobs.getCheckpoint(jobId, sha256)).file, file);
  }

  async putArtifact(workerId: string, jobId: string, artifact: { name: string; sha256: string; mediaType: string }): Promise<ArtifactRecord> {
    const holder = await this.holder(jobId, workerId);
    const blob = await this.deps.blobs.get(artifact.sha256);
    const row = (
      await this.deps.sql.query<ArtifactRow>(SQL.artifactInsert, [
        randomUUID(),
        jobId,
        artifact.name,
        blob.sha256,
        blob.size,
        artifact.mediaType,
        blob.file,
      ])
    ).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.INTERNAL, `Recording artifact ${artifact.name} of job ${jobId} returned nothing`);
    await this.publish({ type: 'job', project: holder.project, jobId, kind: 'artifact' });
    return toArtifact(row);
  }

  async retire(workerId: string): Promise<void> {
    const worker = await this.store.retireWorker(workerId);
    this.activeWorkers.delete(workerId);
    for (const jobId of worker.runningJobs) {
      const result = await this.store.requeue(jobId, `worker ${workerId} left; resuming elsewhere from the last checkpoint`, undefined, { worker: workerId, countAttempt: false }).catch(() => null);
      if (result) await this.afterEnd(result.job);
    }
  }

  /** Registers a hook run when a job of `recipe` succeeds (see SuccessHook); returns its removal. */
  onSucceeded(recipe: string, hook: SuccessHook): () => void {
    this.successHooks.set(recipe, [...(this.successHooks.get(recipe) ?? []), hook]);
    return () => this.successHooks.set(recipe, (this.successHooks.get(recipe) ?? []).filter((each) => each !== hook));
  }

  /** A job's artifacts by name (worker-side callers; tools check the project first). */
  async artifacts(jobId: string): Promise<ArtifactRecord[]> {
    return (await this.deps.sql.query<ArtifactRow>(SQL.artifactsList, [jobId])).rows.map(toArtifact);
  }

  private async finalize(jobId: string, workerId: string, attempt: number, result: Record<string, unknown>): Promise<{ result: Record<string, unknown> } | { error: { code: string; message: string } }> {
    if (this.successHooks.size === 0) return { result };
    // Claimed through this control plane: its recipe is known, and without hooks there is nothing to fence here.
    const claimedRecipe = this.claimedRecipes.get(jobId);
    if (claimedRecipe !== undefined && (this.successHooks.get(claimedRecipe) ?? []).length === 0) return { result };
    const holder = await this.holder(jobId, workerId, attempt);
    const hooks = this.successHooks.get(holder.recipe) ?? [];
    if (hooks.length === 0) return { result };
    const job = await this.store.get(holder.project, jobId);
    const artifacts = await this.artifacts(jobId);
    let merged = result;
    try {
      for (const hook of hooks) merged = { ...merged, ...((await hook(job, merged, artifacts)) ?? {}) };
    } catch (error) {
      this.deps.log.warn({ err: error, jobId }, 'a success hook failed; the job fails');
      const message = error instanceof Error ? error.message : String(error);
      return { error: { code: 'finalize_failed', message: `the recipe finished, but recording its outcome failed: ${message}` } };
    }
    return { result: merged };
  }

  // -----------------------------------------------------------------------------------------------
  // The sweep's entry points

  /** A worker whose lease ran out: its running jobs go back to the queue (they resume from their checkpoints). */
  async handleLostWorker(workerId: string): Promise<string[]> {
    const marked = await this.store.markLost(workerId);
    this.activeWorkers.delete(workerId);
    if (!marked.marked) return [];
    const requeued: string[] = [];
    for (const jobId of marked.worker.runningJobs) {
      const result = await this.retry(jobId, workerId, undefined, `worker ${workerId} stopped heartbeating (lease expired); resuming from the last checkpoint`, {
        code: 'worker_lost',
        message: `worker ${workerId} was lost`,
      }).catch((error: unknown) => {
        this.deps.log.warn({ err: error, jobId, worker: workerId }, 'could not requeue a lost worker’s job');
        return null;
      });
      if (result) {
        requeued.push(jobId);
        await this.afterEnd(result);
      }
    }
    this.deps.log.warn({ worker: workerId, requeued }, 'worker lost; its jobs were requeued');
    return requeued;
  }

  /** Asks a worker to checkpoint a job and give its slot up. */
  async requestPreemption(jobId: string, worker: string, project: string): Promise<void> {
    await this.publish({ type: 'stop', jobId, worker, why: 'preempted' });
    await this.publish({ type: 'job', project, jobId, kind: 'state', state: 'running' });
  }

  // -----------------------------------------------------------------------------------------------

  private async retry(jobId: string, workerId: string, attempt: number | undefined, reason: string, error: Record<string, unknown> & { message: string }, checkpoint?: StoredCheckpoint): Promise<Job> {
    const holder = (await this.deps.sql.query<Holder>(SQL.holder, [jobId])).rows[0];
    const current = attempt ?? holder?.attempt ?? 1;
    const { retryBackoffMs, retryBackoffMaxMs } = this.deps.settings;
    const notBeforeMs = Math.min(retryBackoffMs * 2 ** (current - 1), retryBackoffMaxMs);
    return (await this.store.requeue(jobId, reason, checkpoint, { worker: workerId, notBeforeMs, error, details: { error: { code: error.code, reason: error.reason } } })).job;
  }

  /**
   * After a job left a slot (finished, cancelled, requeued): fail dependents that can never run,
   * and admit what may now start — only when something can have changed (a quota slot freed,
   * dependents released, the job itself requeued); the sweep catches anything else.
   */
  private async afterEnd(job: Job, knownDependents?: readonly string[]): Promise<void> {
    this.announce(job);
    const ended = job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled';
    if (ended) {
      await this.deps.blobs.pruneCheckpoints(job.id, null).catch((error: unknown) => this.deps.log.warn({ err: error, jobId: job.id }, 'could not remove checkpoint files'));
    }
    // Only a job that ended releases or fails its dependents (the state change reported them when it could).
    const dependents = knownDependents ?? (ended ? await this.store.dependents(job.id) : []);
    if (job.state === 'failed' || job.state === 'cancelled') {
      for (const dependent of dependents) await this.failUnrunnable(dependent, `${job.id} (${job.state})`);
    }
    const quota = await this.deps.dispatcher.quota(job.project);
    const mayAdmit = isLimited(quota) || job.state === 'queued' || (job.state === 'succeeded' && dependents.length > 0);
    if (!mayAdmit) return;
    await this.deps.dispatcher.admit(job.project).catch((error: unknown) => {
      this.deps.log.warn({ err: error, project: job.project }, 'admission failed; the sweep retries');
    });
  }

  /** A queued job whose dependency failed or was cancelled can never run: it fails, and so do its dependents. */
  private async failUnrunnable(jobId: string, because: string): Promise<Job | null> {
    const message = `a job it depends on did not succeed: ${because}`;
    const job = await this.store
      .transition(jobId, { from: ['queued'], to: 'failed', reason: message, error: { code: 'dependency_failed', message } })
      .catch((error: unknown) => {
        if (error instanceof AnvilError && error.code === ErrorCodes.CONFLICT) return null;
        throw error;
      });
    if (job) await this.afterEnd(job);
    return job;
  }

  private async saveCheckpoint(jobId: string, workerId: string, attempt: number, checkpoint: StoredCheckpoint): Promise<void> {
    const saved = await this.deps.sql.query(SQL.checkpointSave, [jobId, workerId, attempt, JSON.stringify(checkpoint)]);
    // Only the checkpoint the job would resume from is worth its disk space.
    if (saved.rowCount > 0) await this.deps.blobs.pruneCheckpoints(jobId, checkpoint.blob?.sha256 ?? null);
  }

  /** CONFLICT unless `workerId` holds the job now (for the HTTP checkpoint routes). */
  async requireHolder(jobId: string, workerId: string): Promise<void> {
    await this.holder(jobId, workerId);
  }

  /** The job, if `workerId` holds it (on `attempt`, when given); CONFLICT otherwise, so a stale worker stops. */
  private async holder(jobId: string, workerId: string, attempt?: number): Promise<Holder> {
    const row = (await this.deps.sql.query<Holder>(SQL.holder, [jobId])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No job ${jobId}`, { details: { jobId } });
    if (row.state !== 'running' || row.worker !== workerId || (attempt !== undefined && row.attempt !== attempt)) {
      throw conflict(`Job ${jobId} is ${row.state} on ${row.worker ?? 'no worker'} (attempt ${row.attempt}), not held by ${workerId}${attempt === undefined ? '' : ` on attempt ${attempt}`}`, {
        jobId,
        state: row.state,
        worker: row.worker,
        attempt: row.attempt,
      });
    }
    return row;
  }

  /**
   * A claim from a worker that is not active is refused. The answer is cached for a second per
   * worker (a claim per job would otherwise cost a round trip); a worker marked lost meanwhile
   * learns it at its next heartbeat, and the fencing of its reports keeps the records right.
   */
  private async requireActive(workerId: string): Promise<void> {
    const cached = this.activeWorkers.get(workerId);
    if (cached !== undefined && cached > Date.now()) return;
    const row = (await this.deps.sql.query<{ state: string }>(SQL.workerState, [workerId])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No worker ${workerId}; register it first`, { details: { workerId } });
    if (row.state !== 'active') throw conflict(`Worker ${workerId} is ${row.state}; register again`, { workerId, state: row.state });
    if (this.activeWorkers.size > 10_000) this.activeWorkers.clear();
    this.activeWorkers.set(workerId, Date.now() + ACTIVE_CACHE_MS);
  }

  /** Fire and forget: an announcement must never slow down or fail a state change. */
  private announce(job: Job): void {
    void this.publish({ type: 'job', project: job.project, jobId: job.id, kind: 'state', state: job.state });
  }

  private async publish(message: Parameters<ControlBus['publish']>[0]): Promise<void> {
    await this.deps.bus.publish(message).catch((error: unknown) => this.deps.log.warn({ err: error }, 'control bus publish failed'));
  }
}
