/**
 * Thread memory: what a conversation's steps touched last, so a follow-up's "it", "that job" or
 * "the last model" resolves. Read from each successful step's tool name and structured result.
 */
import type { ThreadMemory } from '../plan.ts';

export const MAX_REMEMBERED_COMMANDS = 20;

export function emptyMemory(): ThreadMemory {
  return { commands: [] };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
}

function int(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function pick(record: Record<string, unknown>, ...keys: string[]): unknown {
  for (const key of keys) if (record[key] !== undefined) return record[key];
  return undefined;
}

function named(result: Record<string, unknown>, args: Record<string, unknown>, nested: string, nameKeys: string[]): { name: string; version?: number } | undefined {
  const inner = typeof result[nested] === 'object' && result[nested] !== null ? (result[nested] as Record<string, unknown>) : result;
  const name = text(pick(inner, ...nameKeys)) ?? text(pick(args, ...nameKeys));
  if (!name) return undefined;
  const version = int(pick(inner, 'version')) ?? int(pick(args, 'version'));
  return version === undefined ? { name } : { name, version };
}

export function rememberCommand(memory: ThreadMemory, command: string): ThreadMemory {
  return { ...memory, commands: [...memory.commands, command.slice(0, 500)].slice(-MAX_REMEMBERED_COMMANDS) };
}

/** The memory after a step of `tool` succeeded with `result` (its structured content). */
export function rememberStep(memory: ThreadMemory, tool: string, args: Record<string, unknown>, result: unknown): ThreadMemory {
  const record = typeof result === 'object' && result !== null ? (result as Record<string, unknown>) : {};
  const group = tool.split('_')[0];
  const next: { -readonly [K in keyof ThreadMemory]: ThreadMemory[K] } = { ...memory };
  const job = text(pick(record, 'jobId')) ?? (typeof record.job === 'object' && record.job !== null ? text((record.job as Record<string, unknown>).id) : undefined);
  if (job) next.lastJobId = job;
  else if (group === 'jobs' || tool === 'training_start') {
    const id = text(record.id) ?? text(args.id);
    if (id) next.lastJobId = id;
  }
  if (group === 'models') {
    const model = named(record, args, 'model', ['name', 'model']);
    if (model) next.lastModel = model;
  } else if (typeof record.model === 'object' || typeof record.modelName === 'string') {
    const model = named(record, {}, 'model', ['modelName', 'name']);
    if (model) next.lastModel = model;
  } else if (typeof record.model === 'string') {
    // training_start names the model it will register; the job's result (a waitFor) names the version.
    const finished = (record.wait as { result?: { model?: { name?: unknown; version?: unknown } } } | undefined)?.result?.model;
    const version = int(finished?.version);
    next.lastModel = version === undefined ? { name: record.model } : { name: record.model, version };
  }
  if (group === 'datasets') {
    const dataset = named(record, args, 'dataset', ['name', 'dataset']);
    if (dataset) next.lastDataset = dataset;
  }
  if (group === 'deployments') {
    const deployment = text(pick(typeof record.deployment === 'object' && record.deployment !== null ? (record.deployment as Record<string, unknown>) : record, 'name')) ?? text(args.name);
    if (deployment) next.lastDeployment = deployment;
  }
  if (group === 'kb') {
    const kb = text(pick(record, 'kb')) ?? text(args.kb);
    if (kb) next.lastKnowledgeBase = kb;
  }
  if (group === 'payments') {
    const payment = text(pick(typeof record.payment === 'object' && record.payment !== null ? (record.payment as Record<string, unknown>) : record, 'id')) ?? text(args.id);
    if (payment) next.lastPaymentId = payment;
  }
  return next;
}
