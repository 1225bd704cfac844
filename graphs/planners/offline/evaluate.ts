/**
 * Scoring a planner on the development set (data/dev.jsonl, written apart from the training
 * phrasings): tool-sequence exact match, slot accuracy, approval recall, planning latency. Used by
 * `npm run bench -- agent` and the planner's accuracy-floor test. Also the bench's anchor: a
 * nearest-neighbour intent classifier over the same training rows (word-set Jaccard), planned
 * through the same templates, so the difference is the intent model alone.
 */
import { readFileSync } from 'node:fs';
import type { ToolDescription } from 'anvil/plugin';
import type { EntityResolver, PlanningContext, StepRisk, ThreadMemory } from '../../plan.ts';
import type { IntentGuess } from './intent-model.ts';
import type { IntentClassifier, OfflinePlanner, SlotRecord } from './planner.ts';

export interface DevCommand {
  readonly text: string;
  readonly tools: readonly string[];
  readonly slots?: Readonly<SlotRecord>;
  readonly kind?: 'plan' | 'oos' | 'vague';
  readonly memory?: Partial<ThreadMemory>;
}

export interface DevRegistry {
  readonly models: readonly { name: string; version: number }[];
  readonly datasets: readonly { name: string; version: number }[];
  readonly deployments: readonly string[];
  readonly knowledgeBases: readonly string[];
  readonly jobs: readonly { id: string; state: string }[];
}

const dataDir = new URL('./data/', import.meta.url);

export function loadDevSet(): DevCommand[] {
  return readFileSync(new URL('dev.jsonl', dataDir), 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as DevCommand);
}

export function loadDevRegistry(): DevRegistry {
  return JSON.parse(readFileSync(new URL('dev-registry.json', dataDir), 'utf8')) as DevRegistry;
}

/** An EntityResolver over a fixed registry: what the dev set's project holds (the runtime resolves against the real one). */
export function registryResolver(registry: DevRegistry): EntityResolver {
  return {
    model: async (name) => registry.models.find((m) => m.name === name),
    dataset: async (name) => registry.datasets.find((d) => d.name === name),
    deployment: async (name) => (registry.deployments.includes(name) ? { name } : undefined),
    knowledgeBase: async (name) => (registry.knowledgeBases.includes(name) ? { name } : undefined),
    job: async (id) => registry.jobs.find((j) => j.id === id),
  };
}

/** Tools whose effect is money moving: they must wait for a person whatever their annotations say. */
export const SPEND_TOOLS: ReadonlySet<string> = new Set(['payments_create', 'payments_confirm', 'payments_capture', 'mandates_create', 'ledger_transfers_create', 'approvals_decide']);

/** The risk a step of `tool` truly has: spend for money movers, destructive when annotated so. */
export function trueRisk(tool: string, catalog: readonly ToolDescription[]): StepRisk | undefined {
  if (SPEND_TOOLS.has(tool)) return 'spend';
  const description = catalog.find((t) => t.name === tool);
  return description?.annotations.destructiveHint === true && description.annotations.readOnlyHint !== true ? 'destructive' : undefined;
}

export interface DevScore {
  readonly commands: number;
  readonly planAccuracy: number;
  readonly slotAccuracy: number;
  /** Share of destructive/spend steps in the plans that are flagged destructive or spend. */
  readonly approvalRecall: number;
  readonly approvalSteps: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly failures: readonly { text: string; expected: readonly string[]; got: readonly string[]; reason?: string }[];
  readonly slotMisses: readonly { text: string; key: string; expected: string | number | undefined; got: string | number | undefined }[];
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export async function scoreDevSet(planner: OfflinePlanner, commands: readonly DevCommand[], catalog: readonly ToolDescription[], resolver: EntityResolver): Promise<DevScore> {
  let exact = 0;
  let slotHits = 0;
  let slotTotal = 0;
  let flagged = 0;
  let approvalSteps = 0;
  const times: number[] = [];
  const failures: DevScore['failures'][number][] = [];
  const slotMisses: DevScore['slotMisses'][number][] = [];
  for (const command of commands) {
    const context: PlanningContext = {
      tools: catalog,
      memory: { commands: [], ...command.memory },
      resolve: resolver,
      dryRun: true,
      signal: new AbortController().signal,
    };
    const started = performance.now();
    const { plan, slots } = await planner.analyse(command.text, context);
    times.push(performance.now() - started);
    const got = plan.steps.map((step) => step.tool);
    if (got.length === command.tools.length && got.every((tool, i) => tool === command.tools[i])) exact++;
    else failures.push({ text: command.text, expected: command.tools, got, ...(plan.reason ? { reason: plan.reason } : {}) });
    // Slots: every expected slot and every slot the planner added count; a plan expected empty scores no slots.
    const expected = command.slots ?? {};
    for (const key of new Set([...Object.keys(expected), ...(command.tools.length > 0 ? Object.keys(slots) : [])])) {
      slotTotal++;
      if (expected[key] === slots[key]) slotHits++;
      else slotMisses.push({ text: command.text, key, expected: expected[key], got: slots[key] });
    }
    for (const step of plan.steps) {
      if (trueRisk(step.tool, catalog) === undefined) continue;
      approvalSteps++;
      if (step.risk === 'destructive' || step.risk === 'spend') flagged++;
    }
  }
  return {
    commands: commands.length,
    planAccuracy: exact / commands.length,
    slotAccuracy: slotTotal === 0 ? 1 : slotHits / slotTotal,
    approvalRecall: approvalSteps === 0 ? 1 : flagged / approvalSteps,
    approvalSteps,
    p50Ms: percentile(times, 0.5),
    p95Ms: percentile(times, 0.95),
    failures,
    slotMisses,
  };
}

/** The anchor: the training row with the largest word-set Jaccard similarity names the intent; the similarity is its confidence. */
export function nearestNeighbourClassifier(rows: readonly { text: string; intent: string }[], threshold = 0.25): IntentClassifier {
  const words = (text: string): Set<string> => new Set(text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []);
  const indexed = rows.map((row) => ({ intent: row.intent, words: words(row.text) }));
  return {
    threshold,
    async classify(texts) {
      return texts.map((text): IntentGuess => {
        const query = words(text);
        let best = { intent: 'oos', probability: 0 };
        for (const row of indexed) {
          let shared = 0;
          for (const word of query) if (row.words.has(word)) shared++;
          const similarity = shared / (query.size + row.words.size - shared || 1);
          if (similarity > best.probability) best = { intent: row.intent, probability: similarity };
        }
        return best;
      });
    },
  };
}

export function loadTrainingRows(): { text: string; intent: string }[] {
  return readFileSync(new URL('train.jsonl', dataDir), 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { text: string; intent: string });
}
