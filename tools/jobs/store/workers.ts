/**
 * Workers and their leases on the database clock: register (returning a restarted worker's
 * orphaned jobs), heartbeat, expiry, lost and retired workers.
 */
import { AnvilError, ErrorCodes, loadSql, type PluginSql } from 'anvil/plugin';
import { type Worker, type WorkerRow, type WorkerState, type WorkerWithJobs, toWorker, toWorkerWithJobs } from '../rows.ts';
import type { MarkLostResult, RegisterWorkerInput } from '../store-types.ts';
import { int, invalid, jsonText, plainObject, text } from '../validate.ts';
import { conflict, LIMITS, NAME_MAX, workerId } from './checks.ts';

const sql = (name: string) => loadSql(import.meta.url, `../sql/${name}.sql`);
const SQL = {
  workerRegister: sql('worker-register'),
  workerHeartbeat: sql('worker-heartbeat'),
  workersExpired: sql('workers-expired'),
  workerMarkLost: sql('worker-mark-lost'),
  workerRetire: sql('worker-retire'),
  workersList: sql('workers-list'),
  workerState: sql('worker-state'),
} as const;

const RESOURCE_CLASS = /^(cpu|gpu-any|gpu-[a-z0-9][a-z0-9._-]{0,39})$/;

export class WorkerStore {
  constructor(private readonly sql: PluginSql) {}

  /**
   * Registers (or re-registers) a worker with a lease of `leaseMs` from now. `runningJobs` lists
   * jobs still running under this id from a previous process: the caller requeues them.
   */
  async register(input: RegisterWorkerInput): Promise<WorkerWithJobs> {
    const id = workerId(input.id);
    const name = text(input.name, 'worker name', NAME_MAX);
    const capabilities = jsonText(plainObject(input.capabilities, 'capabilities'), 'capabilities', LIMITS.jsonBytesMax);
    const classes = [...new Set(input.resourceClasses)];
    for (const resourceClass of classes) {
      if (typeof resourceClass !== 'string' || !RESOURCE_CLASS.test(resourceClass)) {
        throw invalid(`resource class ${JSON.stringify(resourceClass)} must be cpu, gpu-any or gpu-<type>`);
      }
    }
    const leaseMs = int(input.leaseMs, 'leaseMs', 1, LIMITS.leaseMsMax);
    const slots = int(input.slots ?? 1, 'slots', 1, LIMITS.slotsMax);
    const recipes = [...new Set(input.recipes ?? [])].map((recipe, index) => text(recipe, `recipes[${index}]`, NAME_MAX));
    if (recipes.length > LIMITS.recipesMax) throw invalid(`a worker lists at most ${LIMITS.recipesMax} recipes`);
    const row = (await this.sql.query<WorkerRow>(SQL.workerRegister, [id, name, capabilities, classes, leaseMs, slots, recipes])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.INTERNAL, `Registering worker ${id} returned nothing`);
    return toWorkerWithJobs(row);
  }

  /**
   * Extends an active worker's lease by `leaseMs` from now and records its telemetry. A worker
   * marked lost (or gone) is a CONFLICT: its jobs went elsewhere, so it must stop them and register again.
   */
  async heartbeat(id: string, telemetry: unknown, leaseMs: number): Promise<Worker> {
    const worker = workerId(id);
    const lease = int(leaseMs, 'leaseMs', 1, LIMITS.leaseMsMax);
    const row = (await this.sql.query<WorkerRow>(SQL.workerHeartbeat, [worker, jsonText(telemetry ?? null, 'telemetry', LIMITS.jsonBytesMax), lease])).rows[0];
    if (row) return toWorker(row);
    const state = await this.workerState(worker, 'register it first');
    throw conflict(`Worker ${worker} is ${state}: its lease ran out or it left, and its jobs were handed back; register again`, {
      workerId: worker,
      state,
    });
  }

  /** Active workers whose lease ran out before `now` (default: the database's clock), with their running jobs. */
  async expired(now?: Date): Promise<WorkerWithJobs[]> {
    return (await this.sql.query<WorkerRow>(SQL.workersExpired, [now ?? null])).rows.map(toWorkerWithJobs);
  }

  /**
   * Marks a worker lost if it is active and its lease ran out before `now` (default: the database's
   * clock); of several sweepers exactly one gets `marked`, with the jobs to requeue.
   */
  async markLost(id: string, now?: Date): Promise<MarkLostResult> {
    const worker = workerId(id);
    const row = (await this.sql.query<WorkerRow>(SQL.workerMarkLost, [worker, now ?? null])).rows[0];
    if (row) return { marked: true, worker: toWorkerWithJobs(row) };
    return { marked: false, state: await this.workerState(worker) };
  }

  /** A worker leaving on purpose: gone, with the jobs still running under it (to requeue). */
  async retire(id: string): Promise<WorkerWithJobs> {
    const worker = workerId(id);
    const row = (await this.sql.query<WorkerRow>(SQL.workerRetire, [worker])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No worker ${worker}`, { details: { workerId: worker } });
    return toWorkerWithJobs(row);
  }

  /** A worker's state as of now (NOT_FOUND for an unknown worker). */
  private async workerState(id: string, hint?: string): Promise<WorkerState> {
    const row = (await this.sql.query<{ state: string }>(SQL.workerState, [id])).rows[0];
    if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `No worker ${id}${hint ? `; ${hint}` : ''}`, { details: { workerId: id } });
    return row.state as WorkerState;
  }

  async list(states?: readonly WorkerState[]): Promise<WorkerWithJobs[]> {
    return (await this.sql.query<WorkerRow>(SQL.workersList, [states === undefined ? null : [...states]])).rows.map(toWorkerWithJobs);
  }
}
