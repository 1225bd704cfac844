import { hasScope, OPERATOR_SCOPES, z, type ToolSpec } from 'anvil/plugin';
import { loadSql } from '../../../server/db/sql.ts';
import type { JobsRuntime } from '../runtime.ts';

const SQL = { inProject: loadSql(import.meta.url, '../sql/jobs-in-project.sql') } as const;

const WORKER_STATES = ['active', 'lost', 'gone'] as const;

const input = z.object({ states: z.array(z.enum(WORKER_STATES)).min(1).optional().describe('Default: all') }).strict();

const gpu = z.object({ index: z.number().nullable(), name: z.string().nullable(), gpuType: z.string().nullable(), memoryTotalMb: z.number().nullable() });

const output = z.object({
  workers: z.array(
    z.object({
      name: z.string(),
      state: z.enum(WORKER_STATES),
      classes: z.array(z.string()),
      slots: z.number().int(),
      recipes: z.array(z.string()),
      running: z.number().int().describe(`Jobs it runs now (any project with ${OPERATOR_SCOPES.observe}; else this project's)`),
      runningJobs: z.array(z.string()).describe('The ones of this project'),
      gpus: z.array(gpu),
      cpus: z.number().nullable(),
      memoryGb: z.number().nullable(),
      lastHeartbeat: z.string(),
      telemetry: z.unknown().describe(`null without ${OPERATOR_SCOPES.observe}`),
    }),
  ),
  view: z.enum(['cluster', 'project']).describe(`cluster: every worker (scope ${OPERATOR_SCOPES.observe}); project: only the workers running this project's jobs`),
});

function numberOr(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function stringOr(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function gpusOf(capabilities: Record<string, unknown>): Array<z.output<typeof gpu>> {
  const list = Array.isArray(capabilities.gpus) ? (capabilities.gpus as unknown[]) : [];
  return list
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map((item) => ({ index: numberOr(item.index), name: stringOr(item.name), gpuType: stringOr(item.gpuType), memoryTotalMb: numberOr(item.memoryTotalMb) }));
}

export function workersListTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'workers_list',
    title: 'List workers',
    description: `The workers running this project's jobs: state, resource classes, slots, their GPUs. With the operator scope ${OPERATOR_SCOPES.observe}: every worker of the cluster, with its host's CPUs, memory and telemetry.`,
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['workers:read'],
    async handler({ states }, { project, principal }) {
      const runtime = jobs();
      // A project sees what concerns its own jobs; the cluster's hosts, load and other tenants' work are the operator's.
      const cluster = hasScope(principal.scopes, OPERATOR_SCOPES.observe);
      const workers = await runtime.service.store.listWorkers(states);
      const running = [...new Set(workers.flatMap((worker) => worker.runningJobs))];
      const mine =
        running.length === 0 ? new Set<string>() : new Set((await runtime.sql.query<{ id: string }>(SQL.inProject, [project, running])).rows.map((row) => row.id));
      const visible = cluster ? workers : workers.filter((worker) => worker.runningJobs.some((id) => mine.has(id)));
      return {
        view: cluster ? 'cluster' : 'project',
        workers: visible.map((worker) => {
          const ours = worker.runningJobs.filter((id) => mine.has(id));
          return {
            name: worker.name,
            state: worker.state,
            classes: worker.resourceClasses,
            slots: worker.slots,
            recipes: worker.recipes,
            running: cluster ? worker.runningJobs.length : ours.length,
            runningJobs: ours,
            gpus: gpusOf(worker.capabilities),
            cpus: cluster ? numberOr(worker.capabilities.cpus) : null,
            memoryGb: cluster ? numberOr(worker.capabilities.memoryGb) : null,
            lastHeartbeat: worker.lastHeartbeat.toISOString(),
            telemetry: cluster ? (worker.telemetry ?? null) : null,
          };
        }),
      };
    },
  };
}
