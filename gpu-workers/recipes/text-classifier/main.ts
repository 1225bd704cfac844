/**
 * Entry of recipe `text-classifier` (a child process of the runner; see ../../PROTOCOL.md and README.md).
 * Reads the dataset, fits the TF-IDF featurizer on the training rows, trains, exports.
 */
import { runClassifier, trainSettings } from '../ml/classifier-run.ts';
import { DataError } from '../ml/dataset.ts';
import { selectRows } from '../ml/matrix.ts';
import { log, readParams, refuse, StopFlag } from '../ml/recipe-kit.ts';
import { classWeights } from '../ml/split.ts';
import { loadLabelledRows } from '../ml/splits.ts';
import { resolveWorkFile } from '../ml/work-file.ts';
import { Featurizer, fitVectorizer, type TextFeaturizerSpec } from './featurizer.ts';
import { textClassifierParams } from './recipe.ts';

async function main(): Promise<void> {
  const stop = new StopFlag().install();
  const input = await readParams(textClassifierParams, 'text-classifier');
  if (!input) return;
  const { spec, params } = input;
  let dataset: typeof params.dataset;
  let loaded;
  try {
    // Only what the worker staged into the work dir is read (see work-file.ts).
    dataset = { ...params.dataset, file: resolveWorkFile(spec.workDir, params.dataset.file, 'dataset.file') };
    loaded = loadLabelledRows(dataset, params.validationFraction, params.seed, (row) => {
      const value = row.values[dataset.textColumn];
      if (typeof value !== 'string') throw new DataError(`line ${row.line} has no string in the text column '${dataset.textColumn}'`);
      return value;
    });
  } catch (error) {
    if (error instanceof DataError) return refuse(error.message);
    throw error;
  }
  const { labels, train, validation, test, labelIndex } = loaded;
  log(`${train.length} training, ${validation.length} validation, ${test.length} test rows; ${labels.length} classes`);

  const vectorizer = fitVectorizer(
    train.map((row) => row.input),
    { wordNgrams: params.wordNgrams, charNgrams: params.charNgrams, sublinearTf: params.sublinearTf, minDf: params.minDf, maxFeatures: params.maxFeatures },
  );
  const featurizer = Featurizer.fromSpec(vectorizer);
  if (featurizer.featureCount === 0) return refuse(`no n-gram occurs in at least minDf=${params.minDf} training texts of column '${dataset.textColumn}'`);
  log(`featurizer: ${featurizer.featureCount} features`);
  const all = featurizer.transformSparse([...train, ...validation, ...test].map((row) => row.input));
  const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
  const trainY = Int32Array.from(train, (row) => labelIndex(row.label));
  const settings = trainSettings(params, params.labelSmoothing);
  const oosClass = labels.indexOf(params.oosLabel);

  await runClassifier(
    {
      labels,
      train: selectRows(all, range(0, train.length)),
      trainY,
      val: selectRows(all, range(train.length, validation.length)),
      valY: Int32Array.from(validation, (row) => labelIndex(row.label)),
      test: selectRows(all, range(train.length + validation.length, test.length)),
      testY: Int32Array.from(test, (row) => labelIndex(row.label)),
      testLines: test.map((row) => row.line),
      classWeight: classWeights(trainY, labels.length, params.classWeights),
    },
    {
      recipe: 'text-classifier',
      spec,
      stop,
      settings,
      checkpointEvery: params.checkpointEvery,
      oosClass,
      abstain: {
        objective: params.thresholdObjective === 'cost' ? { kind: 'cost', costRatio: params.costRatio } : { kind: 'oos-recall-target', oosRecallTarget: params.oosRecallTarget },
        simulatedOosFraction: params.simulatedOosFraction,
        confidence: params.confidence,
        simulationEpochs: params.simulationEpochs,
      },
      onnxInput: params.onnxInput,
      featureFingerprint: JSON.stringify({ ...vectorizer, vocabulary: vectorizer.vocabulary.length, idf: vectorizer.idf.slice(0, 64) }),
      featurizerSpec: (threshold, confidence) =>
        ({
          kind: 'anvil.text-featurizer',
          version: 1,
          ...vectorizer,
          labels: [...labels],
          oosLabel: params.oosLabel,
          threshold: threshold?.threshold ?? 0,
          confidence,
          thresholdMethod: threshold?.method ?? 'none',
          ...(threshold ? { operatingPoint: { objective: threshold.objective, method: threshold.method, inScopeAccuracy: threshold.inScopeAccuracy, oosRecall: threshold.oosRecall, noAbstainAccuracy: threshold.noAbstainAccuracy } } : {}),
          model: { kind: params.model, hidden: settings.hidden, input: params.onnxInput, output: 'probabilities' },
        }) satisfies TextFeaturizerSpec,
    },
  );
}

await main();
