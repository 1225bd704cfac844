import { anvilVersion, z } from 'anvil/plugin';
import type { HostAdmin, HostInfo, ToolSpec } from 'anvil/plugin';

const checkSchema = z.object({
  ok: z.boolean(),
  latencyMs: z.number().nullable(),
  error: z.string().optional(),
});

export const statusOutput = z.object({
  version: z.string(),
  uptimeSeconds: z.number(),
  /** When storage, queue and migrations were last probed (at most a second ago). */
  checkedAt: z.string(),
  storage: checkSchema.extend({ kind: z.enum(['pglite', 'postgres']), serverVersion: z.string().nullable() }),
  queue: checkSchema.extend({ kind: z.enum(['bullmq-redis', 'bullmq-postgres']) }),
  migrations: z.array(z.object({ scope: z.string(), current: z.number().int(), latest: z.number().int(), pending: z.number().int() })),
  workers: z.object({ total: z.number().int(), byQueue: z.record(z.string(), z.number().int()) }),
});

const input = z.object({}).strict();

export function statusTool(admin: HostAdmin, host: HostInfo): ToolSpec<typeof input, typeof statusOutput> {
  return {
    name: 'anvil_status',
    title: 'Server status',
    description:
      'What this Anvil server runs on and whether it is healthy: version, storage kind (pglite or postgres), queue kind ' +
      '(bullmq-postgres or bullmq-redis), applied migrations, queue health and connected workers. Checks are at most a second old (checkedAt).',
    input,
    output: statusOutput,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['anvil:read'],
    async handler() {
      const [health, byQueue] = await Promise.all([admin.health(), admin.queueWorkers()]);
      return {
        version: anvilVersion,
        uptimeSeconds: Math.round((Date.now() - admin.startedAt.getTime()) / 1000),
        checkedAt: health.checkedAt.toISOString(),
        storage: { kind: host.storage, ...health.storage },
        queue: { kind: host.queue, ...health.queue },
        migrations: health.migrations.map((m) => ({ scope: m.scope, current: m.current, latest: m.latest, pending: Math.max(0, m.latest - m.current) })),
        workers: { total: Object.values(byQueue).reduce((sum, n) => sum + n, 0), byQueue },
      };
    },
  };
}
