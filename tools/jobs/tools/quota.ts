import { AnvilError, ErrorCodes, type ToolSpec, hasScope, loadSql, z } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';

const SQL = {
  set: loadSql(import.meta.url, '../sql/quota-set.sql'),
  active: loadSql(import.meta.url, '../sql/project-active.sql'),
} as const;

export const QUOTA_ADMIN_SCOPE = 'jobs:admin';

const limit = (what: string) => z.number().int().min(0).max(1_000_000).nullable().describe(`${what}; null: the server default`);

const input = z
  .object({
    set: z
      .object({ maxConcurrentJobs: limit('Jobs running or dispatched at once').refine((value) => value === null || value >= 1, 'at least 1'), maxGpus: limit('GPUs in use at once') })
      .strict()
      .optional()
      .describe(`Changes this project's quota (needs scope ${QUOTA_ADMIN_SCOPE})`),
  })
  .strict();

const output = z.object({
  project: z.string(),
  quota: z.object({
    maxConcurrentJobs: z.number().nullable().describe('null: no limit'),
    maxGpus: z.number().nullable().describe('null: no limit'),
    source: z.enum(['project', 'default']).describe('project: set for this project; default: the server configuration'),
  }),
  usage: z.object({ jobs: z.number().int().describe('Running or dispatched'), gpus: z.number().int() }),
  updated: z.boolean(),
});

export function quotaTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_quota',
    title: 'Job quota',
    description: `This project's job quota (concurrent jobs, GPUs) and what it uses now; with set (scope ${QUOTA_ADMIN_SCOPE}) changes it.`,
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['jobs:read'],
    async handler({ set }, { project, principal, audit }) {
      const runtime = jobs();
      if (set) {
        if (!hasScope(principal.scopes, QUOTA_ADMIN_SCOPE)) {
          throw new AnvilError(ErrorCodes.FORBIDDEN, `setting the quota requires scope ${QUOTA_ADMIN_SCOPE}`, { details: { missing: [QUOTA_ADMIN_SCOPE] } });
        }
        await runtime.sql.query(SQL.set, [project, set.maxConcurrentJobs, set.maxGpus, principal.id]);
        audit({ quota: set });
        // A raised limit lets held jobs in at once.
        runtime.dispatcher.forgetQuota(project);
        await runtime.dispatcher.admit(project);
      }
      const quota = await runtime.dispatcher.quota(project);
      const active = (await runtime.sql.query<{ jobs: string; gpus: string }>(SQL.active, [project])).rows[0];
      return { project, quota, usage: { jobs: Number(active?.jobs ?? 0), gpus: Number(active?.gpus ?? 0) }, updated: set !== undefined };
    },
  };
}
