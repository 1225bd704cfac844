/**
 * Entry of recipe `tabular-classifier` (a child process of the runner; see ../../PROTOCOL.md and README.md).
 */
import { averagePrecision } from '../../../contracts/ranking.ts';
import { runClassifier, trainSettings } from '../ml/classifier-run.ts';
import { DataError } from '../ml/dataset.ts';
import { log, readParams, refuse, StopFlag } from '../ml/recipe-kit.ts';
import { classWeights } from '../ml/split.ts';
import { loadLabelledRows } from '../ml/splits.ts';
import { resolveWorkFile } from '../ml/work-file.ts';
import { fitColumns, TabularFeaturizer, type TabularFeaturizerSpec } from './featurizer.ts';
import { tabularClassifierParams } from './recipe.ts';

async function main(): Promise<void> {
  const stop = new StopFlag().install();
  const input = await readParams(tabularClassifierParams, 'tabular-classifier');
  if (!input) return;
  const { spec, params } = input;
  let dataset: typeof params.dataset;
  let loaded;
  try {
    // Only what the worker staged into the work dir is read (see work-file.ts).
    dataset = { ...params.dataset, file: resolveWorkFile(spec.workDir, params.dataset.file, 'dataset.file') };
    loaded = loadLabelledRows(dataset, params.validationFraction, params.seed, (row) => row.values);
  } catch (error) {
    if (error instanceof DataError) return refuse(error.message);
    throw error;
  }
  const { labels, train, validation, test, labelIndex } = loaded;
  const excluded = new Set([dataset.labelColumn, ...(dataset.splitColumn ? [dataset.splitColumn] : [])]);
  const columns = dataset.featureColumns ?? [...new Set(train.flatMap((item) => Object.keys(item.input)))].filter((column) => !excluded.has(column));
  if (columns.length === 0) return refuse(`the dataset has no feature columns besides '${dataset.labelColumn}'`);
  for (const column of columns) {
    if (excluded.has(column)) return refuse(`featureColumns includes '${column}', which is the label or split column`);
    if (!train.some((item) => item.input[column] !== undefined)) return refuse(`feature column '${column}' does not occur in any training row`);
  }
  const trainY = Int32Array.from(train, (item) => labelIndex(item.label));
  let positiveLabel: string | null = null;
  if (labels.length === 2) {
    const counts = labels.map((_, c) => trainY.filter((y) => y === c).length);
    positiveLabel = params.positiveLabel ?? ((counts[0] as number) < (counts[1] as number) ? (labels[0] as string) : (labels[1] as string));
    if (!labels.includes(positiveLabel)) return refuse(`positiveLabel ${JSON.stringify(positiveLabel)} is not one of the classes ${JSON.stringify(labels)}`);
  }

  const columnsSpec = fitColumns(train.map((item) => item.input), columns, dataset.categoricalColumns, params.maxCategories);
  const featurizer = TabularFeaturizer.fromSpec(columnsSpec);
  log(`${train.length} training, ${validation.length} validation, ${test.length} test rows; ${labels.length} classes; ` +
    `${columnsSpec.numeric.length} numeric and ${columnsSpec.categorical.length} categorical columns → ${featurizer.featureCount} features`);
  const settings = trainSettings(params, 0);
  const valY = Int32Array.from(validation, (item) => labelIndex(item.label));
  const positive = positiveLabel === null ? -1 : labels.indexOf(positiveLabel);

  await runClassifier(
    {
      labels,
      train: featurizer.transformSparse(train.map((item) => item.input)),
      trainY,
      val: featurizer.transformSparse(validation.map((item) => item.input)),
      valY,
      test: featurizer.transformSparse(test.map((item) => item.input)),
      testY: Int32Array.from(test, (item) => labelIndex(item.label)),
      testLines: test.map((item) => item.line),
      classWeight: classWeights(trainY, labels.length, params.classWeights),
    },
    {
      recipe: 'tabular-classifier',
      spec,
      stop,
      settings,
      checkpointEvery: params.checkpointEvery,
      oosClass: -1,
      abstain: null,
      featureFingerprint: JSON.stringify(columnsSpec),
      featurizerSpec: (threshold) =>
        ({
          kind: 'anvil.tabular-featurizer',
          version: 1,
          ...columnsSpec,
          labels: [...labels],
          positiveLabel,
          threshold: threshold?.threshold ?? 0,
          model: { kind: params.model, hidden: settings.hidden, input: 'features', output: 'probabilities' },
        }) satisfies TabularFeaturizerSpec,
      extraMetrics: (probabilities): Record<string, number> => {
        if (positive < 0 || valY.length === 0) return {};
        const scores = Array.from(valY, (_, r) => probabilities[r * 2 + positive] as number);
        // NaN (sent as "NaN") when the validation rows hold no positive.
        const valPrAuc = averagePrecision(Array.from(valY, (y) => y === positive), scores) ?? Number.NaN;
        return { valPrAuc, valPositiveRate: valY.filter((y) => y === positive).length / valY.length };
      },
    },
  );
}

await main();
