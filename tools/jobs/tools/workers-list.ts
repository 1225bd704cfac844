import { type ToolSpec, loadSql, z } from 'anvil/plugin';
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
      running: z.number().int().describe('Jobs it runs now (any project)'),
      runningJobs: z.array(z.string()).describe('The ones of this project'),
      gpus: z.array(gpu),
      cpus: z.number().nullable(),
      memoryGb: z.number().nullable(),
      lastHeartbeat: z.string(),
      telemetry: z.unknown(),
    }),
  ),
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
    description: 'The workers that run jobs: state, resource classes, slots, what they run, their GPUs, last heartbeat and telemetry.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['workers:read'],
    async handler({ states }, { project }) {
      const runtime = jobs();
      const workers = await runtime.service.store.listWorkers(states);
      const running = [...new Set(workers.flatMap((worker) => worker.runningJobs))];
      const mine =
        running.length === 0 ? new Set<string>() : new Set((await runtime.sql.query<{ id: string }>(SQL.inProject, [project, running])).rows.map((row) => row.id));
      return {
        workers: workers.map((worker) => ({
          name: worker.name,
          state: worker.state,
          classes: worker.resourceClasses,
          slots: worker.slots,
          recipes: worker.recipes,
          running: worker.runningJobs.length,
          runningJobs: worker.runningJobs.filter((id) => mine.has(id)),
          gpus: gpusOf(worker.capabilities),
          cpus: numberOr(worker.capabilities.cpus),
          memoryGb: numberOr(worker.capabilities.memoryGb),
          lastHeartbeat: worker.lastHeartbeat.toISOString(),
          telemetry: worker.telemetry ?? null,
        })),
      };
    },
  };
}
