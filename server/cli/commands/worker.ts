import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { JOBS_QUEUE_PREFIX, WorkerAgent } from '../../../gpu-workers/agent.ts';
import { redisBus, type ControlBus } from '../../../gpu-workers/bus.ts';
import { HttpControlPlane } from '../../../gpu-workers/http-control-plane.ts';
import { probeCapabilities } from '../../../gpu-workers/probe.ts';
import { recipeTable, unavailableRecipes } from '../../../gpu-workers/recipe-table.ts';
import { builtinRecipes } from '../../../gpu-workers/recipes/index.ts';
import { AnvilError, ErrorCodes } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import type { QueueBackend } from '../../queue/backend.ts';
import { openPostgresQueue } from '../../queue/postgres.ts';
import { openRedisQueue } from '../../queue/redis.ts';
import { commonOptions, loadCommandConfig } from '../common-options.ts';
import { type CliIo, ExitCode } from '../io.ts';

export const workerHelp = `Usage:
  anvil worker --server URL [--token KEY] [--name NAME] [--slots N] [--allow-command] [--work-dir DIR]

  --server         the control plane's base URL, e.g. http://10.0.0.5:7420 (or ANVIL_SERVER_URL)
  --token          an API key with scope workers:join (better: ANVIL_WORKER_TOKEN, kept out of ps)
  --name           this worker's name, unique in the cluster (default: the host name); a restart
                   under the same name hands its unfinished jobs back at once
  --slots          jobs run at once (default 1)
  --allow-command  also run the "command" recipe (any executable a submitter names)
  --work-dir       where recipes write (default <home>/work)

Consumes the BullMQ queues of the resource classes this node serves (cpu; gpu-any and gpu-<type>
when nvidia-smi lists GPUs; ANVIL_NVIDIA_SMI names another nvidia-smi). The queue is Redis
(REDIS_URL), or Postgres (DATABASE_URL with ANVIL_QUEUE=postgres). SIGTERM checkpoints running
jobs and hands them back; a second SIGTERM exits at once.`;

export async function workerCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...commonOptions,
      server: { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string' },
      slots: { type: 'string' },
      'allow-command': { type: 'boolean' },
      'work-dir': { type: 'string' },
    },
  });
  if (values.help) {
    io.out(workerHelp);
    return ExitCode.ok;
  }
  const server = values.server ?? io.env.ANVIL_SERVER_URL;
  if (!server || !/^https?:\/\//.test(server)) throw new AnvilError(ErrorCodes.USAGE, `--server: expected the control plane's http(s) URL, got ${JSON.stringify(server ?? '')}`);
  const token = values.token ?? io.env.ANVIL_WORKER_TOKEN;
  if (!token) throw new AnvilError(ErrorCodes.USAGE, '--token (or ANVIL_WORKER_TOKEN): an API key with scope workers:join is required');
  const slots = values.slots === undefined ? 1 : Number(values.slots);
  if (!Number.isInteger(slots) || slots < 1 || slots > 256) throw new AnvilError(ErrorCodes.USAGE, `--slots: expected a whole number from 1 to 256, got "${values.slots}"`);
  const name = values.name ?? os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100);

  const { config } = loadCommandConfig(io, values);
  const log = createLogger(config).child({ component: 'worker', worker: name });
  const useRedis = config.queue === 'redis' || (config.queue === 'auto' && config.redisUrl !== undefined);
  let queue: QueueBackend;
  let bus: ControlBus | undefined;
  if (useRedis && config.redisUrl) {
    queue = await openRedisQueue(config.redisUrl, { prefix: config.queuePrefix });
    bus = await redisBus(config.redisUrl, config.queuePrefix, (error) => log.warn({ err: error.message }, 'control bus error'));
  } else if (config.databaseUrl) {
    queue = await openPostgresQueue({ connectionString: config.databaseUrl }, { prefix: config.queuePrefix });
  } else {
    throw new AnvilError(ErrorCodes.USAGE, 'a worker needs the queue: set REDIS_URL (or DATABASE_URL with ANVIL_QUEUE=postgres)');
  }

  const capabilities = await probeCapabilities();
  for (const warning of capabilities.warnings) log.info(warning);
  const agent = new WorkerAgent({
    control: new HttpControlPlane(server, token),
    queues: { consume: (resourceClass, processor, settings) => queue.openWorker(`${JOBS_QUEUE_PREFIX}${resourceClass}`, processor, settings) },
    ...(bus ? { bus } : {}),
    name,
    capabilities: { ...capabilities, unavailableRecipes: unavailableRecipes(builtinRecipes) },
    slots,
    recipes: recipeTable(builtinRecipes, { allowCommand: values['allow-command'] === true }),
    workRoot: values['work-dir'] ?? path.join(config.home, 'work'),
    log,
    probe: () => probeCapabilities({ timeoutMs: 5_000 }),
  });
  try {
    await agent.start();
  } catch (error) {
    await bus?.close().catch(() => {});
    await queue.close().catch(() => {});
    throw error;
  }
  io.err(`Anvil worker ${name} serving ${capabilities.resourceClasses.join(', ')} for ${server} (${slots} slot${slots === 1 ? '' : 's'}, ${capabilities.gpus.length} GPU${capabilities.gpus.length === 1 ? '' : 's'})`);

  await new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) process.exit(ExitCode.failed);
      signalled = true;
      log.info({ signal }, 'stopping: checkpointing running jobs and handing them back');
      void agent.close('preempt').finally(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await bus?.close().catch(() => {});
  await queue.close().catch(() => {});
  log.flush();
  return ExitCode.ok;
}
