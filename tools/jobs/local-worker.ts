/**
 * The worker `anvil serve` runs in-process (by default on embedded storage): the same agent as
 * `anvil worker`, talking to the job service directly instead of over HTTP.
 */
import type { Logger, PluginQueue, RecipeSpec } from 'anvil/plugin';
import { WorkerAgent } from '../../gpu-workers/agent.ts';
import type { ControlBus } from '../../gpu-workers/bus.ts';
import { probeCapabilities } from '../../gpu-workers/probe.ts';
import { recipeTable, unavailableRecipes } from '../../gpu-workers/recipe-table.ts';
import type { JobService } from './service.ts';

export interface LocalWorker {
  readonly agent: WorkerAgent;
  close(): Promise<void>;
}

export interface LocalWorkerOptions {
  service: JobService;
  /** The jobs plugin's own queues (`jobs-<class>`), where its dispatcher puts jobs. */
  queue: PluginQueue;
  bus: ControlBus;
  recipes: ReadonlyMap<string, RecipeSpec>;
  allowCommand: boolean;
  slots: number;
  name: string;
  workRoot: string;
  log: Logger;
}

export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const capabilities = await probeCapabilities();
  for (const warning of capabilities.warnings) options.log.info(warning);
  const agent = new WorkerAgent({
    control: options.service,
    queues: { consume: (resourceClass, processor, settings) => options.queue.worker(resourceClass, processor, settings) },
    bus: options.bus,
    name: options.name,
    capabilities: { ...capabilities, unavailableRecipes: unavailableRecipes(options.recipes.values()) },
    slots: options.slots,
    recipes: recipeTable(options.recipes.values(), { allowCommand: options.allowCommand }),
    workRoot: options.workRoot,
    log: options.log,
    probe: () => probeCapabilities({ timeoutMs: 5_000 }),
  });
  await agent.start();
  return { agent, close: () => agent.close('preempt') };
}
