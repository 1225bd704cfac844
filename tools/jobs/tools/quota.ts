import { AnvilError, ErrorCodes, hasScope, OPERATOR_SCOPES, z, type ToolSpec } from 'anvil/plugin';
import { loadSql } from '../../../server/db/sql.ts';
import { LIMITS } from '../store.ts';
import type { JobsRuntime } from '../runtime.ts';

const SQL = {
  set: loadSql(import.meta.url, '../sql/quota-set.sql'),
  get: loadSql(import.meta.url, '../sql/quota-get.sql'),
  active: loadSql(import.meta.url, '../sql/project-active.sql'),
} as const;

/** Quotas, priority ceilings and classes are the operator's: a project's own key (even `*`) cannot change them. */
export const QUOTA_ADMIN_SCOPE = OPERATOR_SCOPES.operate;

const limit = (what: string) => z.number().int().min(0).max(1_000_000).nullable().describe(`${what}; null: the server default`);

const input = z
  .object({
    project: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe(`Another project's settings (needs ${OPERATOR_SCOPES.observe} to read, ${QUOTA_ADMIN_SCOPE} to set); default: the caller's`),
    set: z
      .object({
        maxConcurrentJobs: limit('Jobs running or dispatched at once').refine((value) => value === null || value >= 1, 'at least 1'),
        maxGpus: limit('GPUs in use at once'),
        maxPriority: z.number().int().min(LIMITS.priorityMin).max(LIMITS.priorityMax).nullable().optional().describe('Priority ceiling; null: the server default; omitted: unchanged'),
        priorityClass: z.string().min(1).max(40).nullable().optional().describe('One of the configured jobs.priorityClasses; null: the default class; omitted: unchanged'),
      })
      .strict()
      .optional()
      .describe(`Changes the project's settings (operator scope ${QUOTA_ADMIN_SCOPE}, which a project's key never holds)`),
  })
  .strict();

const output = z.object({
  project: z.string(),
  quota: z.object({
    maxConcurrentJobs: z.number().nullable().describe('null: no limit'),
    maxGpus: z.number().nullable().describe('null: no limit'),
    maxPriority: z.number().int().describe('A submission asking for more is capped to this'),
    priorityClass: z.string().nullable().describe("The operator's class: only a higher-ranked class preempts another project's jobs"),
    source: z.enum(['project', 'default']).describe('project: set for this project; default: the server configuration'),
  }),
  usage: z.object({ jobs: z.number().int().describe('Running or dispatched'), gpus: z.number().int() }),
  updated: z.boolean(),
});

type SettingsRow = { max_concurrent_jobs: number | null; max_gpus: number | null; max_priority: number | null; priority_class: string | null };

function forbidden(scope: string, what: string): AnvilError {
  return new AnvilError(ErrorCodes.FORBIDDEN, `${what} requires the operator scope ${scope}, which a project's key does not hold`, { details: { missing: [scope] } });
}

export function quotaTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_quota',
    title: 'Job quota',
    description: `A project's job quota (concurrent jobs, GPUs), priority ceiling and class, and what it uses now; with set (operator scope ${QUOTA_ADMIN_SCOPE}) changes them.`,
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['jobs:read'],
    async handler({ project: named, set }, { project: own, principal, audit }) {
      const runtime = jobs();
      const project = named ?? own;
      if (set && !hasScope(principal.scopes, QUOTA_ADMIN_SCOPE)) throw forbidden(QUOTA_ADMIN_SCOPE, 'setting a quota, priority ceiling or class');
      if (project !== own && !hasScope(principal.scopes, OPERATOR_SCOPES.observe)) throw forbidden(OPERATOR_SCOPES.observe, "reading another project's quota");
      if (set) {
        const classes = runtime.config.priorityClasses;
        if (set.priorityClass != null && !(set.priorityClass in classes)) {
          throw new AnvilError(ErrorCodes.INVALID_INPUT, `set.priorityClass: expected one of the configured classes (${Object.keys(classes).join(', ') || 'none configured'})`, {
            details: { field: 'set.priorityClass' },
          });
        }
        await runtime.sql.transaction(async (tx) => {
          const current = (await tx.query<SettingsRow>(SQL.get, [project])).rows[0];
          const maxPriority = set.maxPriority === undefined ? (current?.max_priority ?? null) : set.maxPriority;
          const priorityClass = set.priorityClass === undefined ? (current?.priority_class ?? null) : set.priorityClass;
          await tx.query(SQL.set, [project, set.maxConcurrentJobs, set.maxGpus, principal.id, maxPriority, priorityClass]);
        });
        audit({ project, quota: set });
        // A raised limit lets held jobs in at once.
        runtime.dispatcher.forgetQuota(project);
        await runtime.dispatcher.admit(project);
      }
      const settings = await runtime.dispatcher.quota(project);
      const quota = { maxConcurrentJobs: settings.maxConcurrentJobs, maxGpus: settings.maxGpus, maxPriority: settings.maxPriority, priorityClass: settings.priorityClass, source: settings.source };
      const active = (await runtime.sql.query<{ jobs: string; gpus: string }>(SQL.active, [project])).rows[0];
      return { project, quota, usage: { jobs: Number(active?.jobs ?? 0), gpus: Number(active?.gpus ?? 0) }, updated: set !== undefined };
    },
  };
}
