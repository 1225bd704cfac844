/**
 * `agent`: the offline planner (no LLM) on its development set (graphs/planners/offline/data/dev.jsonl,
 * 127 commands written apart from the training phrasings: single and multi-step, conditional,
 * memory references, unresolved names, out-of-scope and vague requests), planning against the real
 * catalog of a test host with every built-in, dry run, names resolved against the dev registry.
 *
 * Figures: `offline_plan_accuracy` (tool sequence exact match; target ≥ 0.85), `offline_slot_accuracy`
 * (≥ 0.9), `approval_recall` (destructive/spend steps flagged; 1.0), `plan_p50_ms` (≤ 50 ms),
 * `plan_p95_ms`. Anchor, same run, same templates and slot rules: a nearest-neighbour intent
 * classifier (word-set Jaccard over the same training rows) in place of the text-classifier model.
 */
import { createOfflinePlanner, OfflinePlanner, commandWords } from '../../graphs/planners/offline/index.ts';
import { loadDevRegistry, loadDevSet, loadTrainingRows, nearestNeighbourClassifier, registryResolver, scoreDevSet, type DevScore } from '../../graphs/planners/offline/evaluate.ts';
import { catalogHost } from '../support/agent-catalog.ts';
import type { BenchContext, Figure } from './run.ts';

export const name = 'agent';
export const description = 'Offline ops planner on 127 dev commands: plan and slot accuracy, approval recall, planning latency vs a nearest-neighbour intent anchor';

export async function run(context: BenchContext): Promise<Figure[]> {
  const { host, catalog } = await catalogHost();
  try {
    const dev = loadDevSet();
    const resolver = registryResolver(loadDevRegistry());
    const offline = await createOfflinePlanner();
    const anchor = new OfflinePlanner({ name: 'nearest-neighbour', model: nearestNeighbourClassifier(loadTrainingRows()), commandWords: commandWords() });
    // One warm-up pass each (ONNX session, JIT), then the measured pass.
    await scoreDevSet(offline, dev.slice(0, 10), catalog, resolver);
    await scoreDevSet(anchor, dev.slice(0, 10), catalog, resolver);
    const model: DevScore = await scoreDevSet(offline, dev, catalog, resolver);
    const baseline: DevScore = await scoreDevSet(anchor, dev, catalog, resolver);
    context.log(`${dev.length} commands, ${catalog.length} tools in the catalog; offline plan misses: ${model.failures.length}, anchor misses: ${baseline.failures.length}`);
    for (const failure of model.failures) context.log(`  miss: "${failure.text}" expected [${failure.expected.join(', ')}] got [${failure.got.join(', ')}]${failure.reason ? ` (${failure.reason})` : ''}`);
    for (const miss of model.slotMisses) context.log(`  slot: "${miss.text}" ${miss.key} expected ${String(miss.expected)} got ${String(miss.got)}`);
    return [
      { metric: 'offline_plan_accuracy', value: model.planAccuracy, unit: 'ratio', anchor: baseline.planAccuracy },
      { metric: 'offline_slot_accuracy', value: model.slotAccuracy, unit: 'ratio', anchor: baseline.slotAccuracy },
      { metric: 'approval_recall', value: model.approvalRecall, unit: 'ratio', anchor: baseline.approvalRecall },
      { metric: 'approval_steps', value: model.approvalSteps, unit: 'steps', anchor: baseline.approvalSteps },
      { metric: 'plan_p50_ms', value: model.p50Ms, unit: 'ms', anchor: baseline.p50Ms },
      { metric: 'plan_p95_ms', value: model.p95Ms, unit: 'ms', anchor: baseline.p95Ms },
      { metric: 'dev_commands', value: dev.length, unit: 'commands', anchor: null },
    ];
  } finally {
    await host.close();
  }
}
