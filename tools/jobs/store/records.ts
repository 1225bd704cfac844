/**
 * Jobs as records: submission (idempotent by key, dependencies checked in the project) and the
 * project-scoped reads (`get`, `list`, `events`), which answer NOT_FOUND for another project's job
 * so ids never reveal what exists elsewhere.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, loadSql, type PluginSql, type SqlExecutor } from 'anvil/plugin';
import { resourceClassOf } from '../resources.ts';
import { type EventRow, type Job, type JobEvent, type JobRow, toEvent, toJob } from '../rows.ts';
import type { JobPage, ListOptions, SubmitInput, SubmitOptions, SubmitResult } from '../store-types.ts';
import { isJobState, JOB_STATES } from '../states.ts';
import { decodeCursor, encodeCursor, int, invalid, jsonText, parseResources, plainObject, text, uuid } from '../validate.ts';
import { conflict, LIMITS, NAME_MAX, notFound, project } from './checks.ts';

const sql = (name: string) => loadSql(import.meta.url, `../sql/${name}.sql`);
const SQL = {
  submit: sql('submit'),
  submitExisting: sql('submit-existing'),
  jobsInProject: sql('jobs-in-project'),
  get: sql('get'),
  list: sql('list'),
  events: sql('events'),
} as const;

type SubmitExistingRow = JobRow & {
  same_recipe: boolean;
  same_params: boolean;
  same_resources: boolean;
  same_priority: boolean;
  same_max_attempts: boolean;
  same_depends_on: boolean;
};

const INPUT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function jobInputs(inputs: ReadonlyArray<{ name: string; sha256: string }>): Array<{ name: string; sha256: string }> {
  if (inputs.length > 100) throw invalid(`a job takes at most 100 inputs, got ${inputs.length}`);
  const names = new Set<string>();
  return inputs.map((item, index) => {
    if (typeof item.name !== 'string' || !INPUT_NAME.test(item.name)) throw invalid(`inputs[${index}].name must be a file name (letters, digits, ".", "_", "-")`);
    if (names.has(item.name)) throw invalid(`inputs[${index}].name ${item.name} is given twice`);
    names.add(item.name);
    if (typeof item.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(item.sha256)) throw invalid(`inputs[${index}].sha256 must be 64 lower-case hex digits`);
    return { name: item.name, sha256: item.sha256 };
  });
}

export class JobRecords {
  constructor(private readonly sql: PluginSql) {}

  /**
   * Queues a job. With an idempotency key, the same submission again (or concurrently) yields the
   * one job, `created: false`; the same key with different content is a CONFLICT naming the key.
   * `dependsOn` ids must be jobs of the same project (NOT_FOUND naming the missing ones).
   * Without dependencies it is one statement (its own transaction): one round trip.
   */
  async submit(projectId: string, input: SubmitInput, options: SubmitOptions = {}): Promise<SubmitResult> {
    const inProject = project(projectId);
    const recipe = text(input.recipe, 'recipe', NAME_MAX);
    const params = jsonText(plainObject(input.params ?? {}, 'params'), 'params', LIMITS.jsonBytesMax) ?? '{}';
    const resources = parseResources(input.resources);
    const priority = int(input.priority ?? 0, 'priority', LIMITS.priorityMin, LIMITS.priorityMax);
    const maxAttempts = int(input.maxAttempts ?? LIMITS.maxAttemptsDefault, 'maxAttempts', 1, LIMITS.maxAttemptsMax);
    const key = input.idempotencyKey === undefined ? null : text(input.idempotencyKey, 'idempotencyKey', NAME_MAX);
    const dependsOn = [...new Set((input.dependsOn ?? []).map((id) => uuid(id, 'dependsOn id')))].sort();
    if (dependsOn.length > LIMITS.dependsOnMax) throw invalid(`dependsOn lists ${dependsOn.length} jobs; at most ${LIMITS.dependsOnMax}`);
    const resourcesJson = JSON.stringify(resources);
    const timeoutMs = int(input.timeoutMs ?? LIMITS.timeoutMsDefault, 'timeoutMs', 1_000, LIMITS.timeoutMsMax);
    const inputs = jobInputs(input.inputs ?? []);
    const dispatch = options.dispatch === true && dependsOn.length === 0;

    const work = async (tx: SqlExecutor): Promise<SubmitResult> => {
      if (dependsOn.length > 0) {
        const found = new Set((await tx.query<{ id: string }>(SQL.jobsInProject, [inProject, dependsOn])).rows.map((row) => row.id));
        const missing = dependsOn.filter((id) => !found.has(id));
        if (missing.length > 0) {
          throw new AnvilError(ErrorCodes.NOT_FOUND, `dependsOn names no job in project ${inProject}: ${missing.join(', ')}`, { details: { missing } });
        }
      }
      const inserted = await tx.query<JobRow>(SQL.submit, [
        randomUUID(),
        inProject,
        recipe,
        params,
        resourcesJson,
        resourceClassOf(resources),
        priority,
        maxAttempts,
        key,
        dependsOn,
        timeoutMs,
        JSON.stringify(inputs),
        dispatch,
      ]);
      const row = inserted.rows[0];
      if (row) return { job: toJob(row), created: true };

      // Only a taken idempotency key inserts nothing; the job holding it has committed by now.
      const existing = (await tx.query<SubmitExistingRow>(SQL.submitExisting, [inProject, key, recipe, params, resourcesJson, priority, maxAttempts, dependsOn]))
        .rows[0];
      if (!existing) throw conflict(`Idempotency key "${key}" is being used by a submission that did not finish; retry`, { idempotencyKey: key });
      const differs = (
        [
          ['recipe', existing.same_recipe],
          ['params', existing.same_params],
          ['resources', existing.same_resources],
          ['priority', existing.same_priority],
          ['maxAttempts', existing.same_max_attempts],
          ['dependsOn', existing.same_depends_on],
        ] as const
      )
        .filter(([, same]) => !same)
        .map(([field]) => field);
      if (differs.length > 0) {
        throw conflict(
          `Idempotency key "${key}" already submitted job ${existing.id} in project ${inProject} with a different ${differs.join(', ')}; use a new key for a different job`,
          { idempotencyKey: key, jobId: existing.id, differs },
        );
      }
      return { job: toJob(existing), created: false };
    };
    // The dependencies' check and the insert need one transaction; an insert alone is atomic.
    return dependsOn.length > 0 ? this.sql.transaction(work) : work(this.sql);
  }

  async get(projectId: string, jobId: string): Promise<Job> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const row = (await this.sql.query<JobRow>(SQL.get, [id, inProject])).rows[0];
    if (!row) throw notFound(id, inProject);
    return toJob(row);
  }

  /** A project's jobs, newest first; `nextCursor` pages on (stable while new jobs arrive). */
  async list(projectId: string, options: ListOptions = {}): Promise<JobPage> {
    const inProject = project(projectId);
    const limit = int(options.limit ?? LIMITS.listDefault, 'limit', 1, LIMITS.listMax);
    const states = options.states === undefined ? null : [...new Set(options.states)];
    for (const state of states ?? []) if (!isJobState(state)) throw invalid(`${JSON.stringify(state)} is not a job state (${JOB_STATES.join(', ')})`);
    const recipe = options.recipe === undefined ? null : text(options.recipe, 'recipe', NAME_MAX);
    const before = options.cursor === undefined ? null : decodeCursor(options.cursor);
    const { rows } = await this.sql.query<JobRow>(SQL.list, [inProject, states, recipe, before, limit + 1]);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { jobs: page.map(toJob), nextCursor: rows.length > limit && last ? encodeCursor(Number(last.seq)) : null };
  }

  /** A project's job's state changes, oldest first. */
  async events(projectId: string, jobId: string): Promise<JobEvent[]> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const { rows } = await this.sql.query<EventRow>(SQL.events, [id, inProject]);
    if (rows.length === 0) throw notFound(id, inProject); // every job has its submission event
    return rows.map(toEvent);
  }
}
