/**
 * `npm run agent:train-planner`: writes the offline planner's training set from its phrasings
 * (graphs/planners/offline/data/phrasings.ts → data/train.jsonl) and trains its intent model with
 * Anvil's own `text-classifier` recipe, run as a child process through the worker's runner exactly
 * as a job would run it. The artifacts (model.onnx, featurizer.json) and a manifest land in
 * graphs/planners/offline/model/, committed, so planning needs no training step.
 *
 * Lives in scripts/ because it joins two areas the boundary rule keeps apart: the recipe
 * (gpu-workers/) and the planner's data (graphs/).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../contracts/mulberry32.ts';
import type { ArtifactEvent, RecipeEvent } from '../gpu-workers/protocol.ts';
import { textClassifierRecipe } from '../gpu-workers/recipes/text-classifier/recipe.ts';
import { entryCommand, runRecipe } from '../gpu-workers/runner.ts';
import { FILLERS } from '../graphs/planners/offline/data/fillers.ts';
import { PHRASINGS } from '../graphs/planners/offline/data/phrasings.ts';
import { TEMPLATES, OOS_LABEL, VAGUE_LABEL } from '../graphs/planners/offline/catalog.ts';
import { classifierText } from '../graphs/planners/offline/slots.ts';

const offline = fileURLToPath(new URL('../graphs/planners/offline/', import.meta.url));
const FILLS_PER_PHRASING = 3;


export interface TrainRow {
  text: string;
  intent: string;
  slots: Record<string, string>;
}

export function trainingRows(): TrainRow[] {
  const random = mulberry32(20261205);
  const pick = (values: readonly string[]): string => values[Math.floor(random() * values.length)] as string;
  const rows: TrainRow[] = [];
  const seen = new Set<string>();
  for (const [intent, phrasings] of Object.entries(PHRASINGS)) {
    if (intent !== OOS_LABEL && intent !== VAGUE_LABEL && !TEMPLATES[intent]) throw new Error(`intent ${intent} has phrasings but no template in catalog.ts`);
    for (const phrasing of phrasings) {
      const fills = phrasing.includes('{') ? FILLS_PER_PHRASING : 1;
      for (let i = 0; i < fills; i++) {
        const slots: Record<string, string> = {};
        const text = phrasing.replace(/version \{version\}/g, () => `version ${(slots.version = pick(FILLERS.version ?? []).slice(1))}`).replace(/\{(\w+)\}/g, (_, slot: string) => {
          const values = FILLERS[slot];
          if (!values) throw new Error(`no fillers for {${slot}} in "${phrasing}"`);
          const value = pick(values);
          slots[slot] = value;
          return value;
        });
        if (seen.has(text)) continue;
        seen.add(text);
        rows.push({ text, intent, slots });
      }
    }
  }
  for (const template of Object.keys(TEMPLATES)) if (!PHRASINGS[template]) throw new Error(`template ${template} has no phrasings`);
  return rows;
}

async function main(): Promise<void> {
  const rows = trainingRows();
  const trainJsonl = `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
  writeFileSync(path.join(offline, 'data/train.jsonl'), trainJsonl);
  const work = mkdtempSync(path.join(tmpdir(), 'anvil-planner-'));
  try {
    writeFileSync(path.join(work, 'dataset.jsonl'), rows.map((row) => JSON.stringify({ text: classifierText(row.text), label: row.intent })).join('\n'));
    const params = {
      dataset: { file: 'dataset.jsonl', textColumn: 'text', labelColumn: 'label' },
      wordNgrams: [1, 2],
      charNgrams: [2, 4],
      minDf: 2,
      maxFeatures: 6000,
      model: 'mlp',
      hiddenSize: 64,
      epochs: 40,
      batchSize: 16,
      learningRate: 0.005,
      patience: 8,
      validationFraction: 0.12,
      oosLabel: OOS_LABEL,
      thresholdObjective: 'cost',
      costRatio: 0.5,
      // The planner compares the top probability with the threshold (graphs/planners/offline/planner.ts).
      confidence: 'max-probability',
      seed: 11,
      checkpointEvery: 0,
    };
    const events: RecipeEvent[] = [];
    const outcome = await runRecipe({
      ...entryCommand(textClassifierRecipe.entry),
      spec: { jobId: 'agent-train-planner', recipe: textClassifierRecipe.name, params, attempt: 1, workDir: work, resume: null },
      cwd: work,
      timeoutMs: 600_000,
      graceMs: 10_000,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'log') process.stderr.write(`  ${event.message}\n`);
      },
    });
    if (outcome.status !== 'succeeded') throw new Error(`text-classifier did not succeed: ${JSON.stringify(outcome)}`);
    const artifacts = new Map(events.filter((event): event is ArtifactEvent => event.type === 'artifact').map((event) => [event.name, event]));
    for (const name of ['model.onnx', 'featurizer.json']) {
      const artifact = [...artifacts.values()].find((a) => path.basename(a.path) === name);
      if (!artifact) throw new Error(`the recipe did not publish ${name}`);
      copyFileSync(artifact.path, path.join(offline, 'model', name));
    }
    const manifest = {
      recipe: textClassifierRecipe.name,
      trainSha256: createHash('sha256').update(trainJsonl).digest('hex'),
      rows: rows.length,
      intents: Object.keys(PHRASINGS).length,
      params,
      metrics: (outcome.result as { metrics?: unknown }).metrics,
      threshold: (outcome.result as { threshold?: unknown }).threshold,
    };
    writeFileSync(path.join(offline, 'model/manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    process.stderr.write(`trained on ${rows.length} rows, ${manifest.intents} labels: ${JSON.stringify(manifest.metrics)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
