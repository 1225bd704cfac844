/**
 * Evaluation metrics against hand-computed small cases and scikit-learn's documented examples
 * (roc_auc_score, average_precision_score, f1_score, precision_recall_fscore_support, log_loss,
 * confusion_matrix, accuracy_score).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAnvilError } from 'anvil/plugin';
import {
  averagePrecision,
  calibration,
  compare,
  evaluate,
  logLoss,
  renderComparisonReport,
  renderEvaluationReport,
  rocAuc,
  seededRandom,
  type EvaluationInput,
} from '../../gpu-workers/recipes/evaluation/metrics/index.ts';

const close = (actual: number | null | undefined, expected: number, tolerance = 1e-4, what = 'value') => {
  assert.ok(typeof actual === 'number', `${what}: expected a number, got ${String(actual)}`);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected}, got ${actual}`);
};

const noBootstrap = { bootstrap: { resamples: 0 } };

function invalidNaming(field: RegExp) {
  return (error: unknown) => {
    assert.ok(isAnvilError(error), String(error));
    assert.equal(error.code, 'ANVIL_E_INVALID_INPUT');
    assert.match(error.message, field);
    return true;
  };
}

describe('ranking metrics (scikit-learn documented examples)', () => {
  const y = [false, false, true, true];
  const scores = [0.1, 0.4, 0.35, 0.8];

  it('roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75', () => {
    close(rocAuc(y, scores), 0.75, 1e-12);
  });

  it('average_precision_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.8333', () => {
    close(averagePrecision(y, scores), 0.8333333333, 1e-9);
  });

  it('handles ties (half credit) and one-class rows (null)', () => {
    close(rocAuc([true, false, true, false], [0.5, 0.5, 0.5, 0.5]), 0.5, 1e-12);
    close(averagePrecision([true, false, true, false], [0.5, 0.5, 0.5, 0.5]), 0.5, 1e-12);
    // Hand-computed: positives 0.8 and 0.5, negatives 0.5 and 0.2 → pairs 1 + 1 + 0.5 + 1 = 3.5 of 4.
    close(rocAuc([true, true, false, false], [0.8, 0.5, 0.5, 0.2]), 0.875, 1e-12);
    assert.equal(rocAuc([true, true], [0.2, 0.9]), null);
    assert.equal(averagePrecision([false, false], [0.2, 0.9]), null);
  });

  it('evaluate computes them for a binary task, the positive class given or the minority', () => {
    const input: EvaluationInput = {
      labels: ['0', '0', '1', '1'],
      predicted: ['0', '0', '0', '1'],
      classes: ['0', '1'],
      probabilities: [
        [0.9, 0.1],
        [0.6, 0.4],
        [0.65, 0.35],
        [0.2, 0.8],
      ],
    };
    const given = evaluate(input, { ...noBootstrap, positiveClass: '1' });
    assert.equal(given.binary?.positiveClass, '1');
    close(given.binary?.rocAuc, 0.75, 1e-12);
    close(given.binary?.prAuc, 0.8333333333, 1e-9);
    // A 2/2 tie picks the second class, as scikit-learn's pos_label=1 would.
    assert.equal(evaluate(input, noBootstrap).binary?.positiveClass, '1');

    const minority = evaluate({ labels: ['neg', 'neg', 'neg', 'pos'], predicted: ['neg', 'neg', 'pos', 'pos'], classes: ['pos', 'neg'], probabilities: [[0.1, 0.9], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]] }, noBootstrap);
    assert.equal(minority.binary?.positiveClass, 'pos');
    close(minority.binary?.rocAuc, 1, 1e-12);
    assert.throws(() => evaluate(input, { positiveClass: 'cat' }), invalidNaming(/positiveClass/));
    assert.equal(evaluate({ labels: ['a', 'b', 'c'], predicted: ['a', 'b', 'c'], classes: ['a', 'b', 'c'], probabilities: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }, noBootstrap).binary, null);
  });
});

describe('label metrics', () => {
  it('accuracy_score([0,2,1,3], [0,1,2,3]) = 0.5', () => {
    close(evaluate({ labels: ['0', '2', '1', '3'], predicted: ['0', '1', '2', '3'] }, noBootstrap).accuracy, 0.5, 1e-12);
  });

  it('f1_score([0,1,2,0,1,2], [0,2,1,0,0,1]): macro 0.2667, micro 0.3333, weighted 0.2667, per class [0.8, 0, 0]', () => {
    const result = evaluate({ labels: ['0', '1', '2', '0', '1', '2'], predicted: ['0', '2', '1', '0', '0', '1'] }, noBootstrap);
    close(result.macroF1, 0.26666666, 1e-6);
    close(result.microF1, 0.33333333, 1e-6);
    close(result.weightedF1, 0.26666666, 1e-6);
    assert.deepEqual(
      result.perClass.map((c) => [c.label, Number(c.f1.toFixed(6)), c.support, c.predicted]),
      [
        ['0', 0.8, 2, 3],
        ['1', 0, 2, 2],
        ['2', 0, 2, 1],
      ],
    );
  });

  it('precision_recall_fscore_support(cat/dog/pig): macro P 0.2222, R 0.3333, F 0.2667', () => {
    const result = evaluate({ labels: ['cat', 'dog', 'pig', 'cat', 'dog', 'pig'], predicted: ['cat', 'pig', 'dog', 'cat', 'cat', 'dog'] }, noBootstrap);
    const mean = (key: 'precision' | 'recall') => result.perClass.reduce((sum, c) => sum + c[key], 0) / result.perClass.length;
    close(mean('precision'), 0.22222222, 1e-6);
    close(mean('recall'), 0.33333333, 1e-6);
    close(result.macroF1, 0.26666666, 1e-6);
    close(result.microF1, 0.33333333, 1e-6);
  });

  it('confusion_matrix(cat/ant/bird) = [[2,0,0],[0,0,1],[1,0,2]]', () => {
    const result = evaluate({ labels: ['cat', 'ant', 'cat', 'cat', 'ant', 'bird'], predicted: ['ant', 'ant', 'cat', 'cat', 'ant', 'cat'] }, noBootstrap);
    assert.deepEqual(result.confusion, {
      kind: 'full',
      classes: ['ant', 'bird', 'cat'],
      matrix: [
        [2, 0, 0],
        [0, 0, 1],
        [1, 0, 2],
      ],
    });
  });

  it('lists the top confusions instead of a matrix above 20 classes', () => {
    const labels: string[] = [];
    const predicted: string[] = [];
    for (let k = 0; k < 25; k += 1) {
      const label = `c${String(k).padStart(2, '0')}`;
      labels.push(label, label);
      predicted.push(label, label);
    }
    // c01 → c02 three times, c05 → c00 twice, c09 → c03 once.
    labels.push('c01', 'c01', 'c01', 'c05', 'c05', 'c09');
    predicted.push('c02', 'c02', 'c02', 'c00', 'c00', 'c03');
    const result = evaluate({ labels, predicted }, { ...noBootstrap, topConfusions: 2 });
    assert.deepEqual(result.confusion, {
      kind: 'top',
      classCount: 25,
      top: [
        { true: 'c01', predicted: 'c02', count: 3 },
        { true: 'c05', predicted: 'c00', count: 2 },
      ],
    });
  });

  it('refuses malformed input naming the field', () => {
    assert.throws(() => evaluate({ labels: [], predicted: [] }), invalidNaming(/^labels/));
    assert.throws(() => evaluate({ labels: ['a', 'b'], predicted: ['a'] }), invalidNaming(/^predicted/));
    assert.throws(() => evaluate({ labels: ['a'], predicted: ['a'], probabilities: [[1]] }), invalidNaming(/classes/));
    assert.throws(() => evaluate({ labels: ['a'], predicted: ['a'], classes: ['a', 'b'], probabilities: [[1]] }), invalidNaming(/probabilities\[0\]/));
    assert.throws(() => evaluate({ labels: ['a'], predicted: ['a'], classes: ['a', 'b'], probabilities: [[Number.NaN, 1]] }), invalidNaming(/probabilities\[0\]/));
    assert.throws(() => evaluate({ labels: ['a'], predicted: ['a'] }, { bootstrap: { resamples: -1 } }), invalidNaming(/bootstrap\.resamples/));
  });
});

describe('probability metrics', () => {
  it('log_loss(spam/ham, [[.1,.9],[.9,.1],[.8,.2],[.35,.65]]) = 0.21616', () => {
    const result = evaluate(
      {
        labels: ['spam', 'ham', 'ham', 'spam'],
        predicted: ['spam', 'ham', 'ham', 'spam'],
        classes: ['ham', 'spam'],
        probabilities: [
          [0.1, 0.9],
          [0.9, 0.1],
          [0.8, 0.2],
          [0.35, 0.65],
        ],
      },
      noBootstrap,
    );
    close(result.logLoss, 0.21616187, 1e-7);
  });

  it('clips probabilities at 1e-15', () => {
    close(logLoss([0]), -Math.log(1e-15), 1e-9);
    close(logLoss([1]), -Math.log(1 - 1e-15), 1e-12);
    assert.equal(logLoss([]), null);
  });

  it('ECE over 15 bins with reliability data (hand-computed: 0.4)', () => {
    // Confidences 0.9 (right), 0.9 (wrong), 0.6 (right), 0.6 (right): |0.5 − 0.9|·½ + |1 − 0.6|·½ = 0.4.
    const result = evaluate(
      {
        labels: ['a', 'b', 'b', 'a'],
        predicted: ['a', 'a', 'b', 'a'],
        classes: ['a', 'b'],
        probabilities: [
          [0.9, 0.1],
          [0.9, 0.1],
          [0.4, 0.6],
          [0.6, 0.4],
        ],
      },
      noBootstrap,
    );
    const cal = result.calibration;
    assert.ok(cal);
    close(cal.ece, 0.4, 1e-12);
    assert.equal(cal.bins.length, 15);
    assert.equal(cal.rows, 4);
    const filled = cal.bins.filter((bin) => bin.count > 0);
    assert.deepEqual(
      filled.map((bin) => [Number(bin.lower.toFixed(4)), Number(bin.upper.toFixed(4)), bin.count, Number(bin.avgConfidence?.toFixed(6)), bin.accuracy]),
      [
        [0.5333, 0.6, 2, 0.6, 1],
        [0.8667, 0.9333, 2, 0.9, 0.5],
      ],
    );
    assert.equal(cal.bins[0]?.avgConfidence, null);
  });

  it('puts confidence 1 in the last bin and 0 in the first', () => {
    const cal = calibration([0, 1], [false, true]);
    assert.equal(cal?.bins[0]?.count, 1);
    assert.equal(cal?.bins[14]?.count, 1);
    close(cal?.ece, 0, 1e-12);
  });
});

describe('out of scope and unseen labels', () => {
  it('counts abstentions as out-of-scope predictions (hand-computed)', () => {
    const result = evaluate({ labels: ['a', 'b', 'oos', 'oos', 'a'], predicted: ['a', null, null, 'a', 'b'] }, noBootstrap);
    assert.deepEqual(result.classes, ['a', 'b', 'oos']);
    assert.equal(result.abstained, 2);
    close(result.accuracy, 2 / 5, 1e-12);
    close(result.inScopeAccuracy, 1 / 3, 1e-12);
    assert.deepEqual(result.oos, { precision: 0.5, recall: 0.5, support: 2, predicted: 2 });
  });

  it('honours another oos label, and reports no oos metrics without oos rows', () => {
    const custom = evaluate({ labels: ['x', 'none'], predicted: ['x', 'none'] }, { ...noBootstrap, oosLabel: 'none' });
    assert.deepEqual(custom.oos, { precision: 1, recall: 1, support: 1, predicted: 1 });
    close(custom.inScopeAccuracy, 1, 0);
    const plain = evaluate({ labels: ['x', 'y'], predicted: ['x', null] }, noBootstrap);
    assert.equal(plain.inScopeAccuracy, null);
    assert.equal(plain.oos, null);
    assert.equal(plain.abstained, 1);
  });

  it('reports labels the model never saw with counts, leaving them out of log loss', () => {
    const result = evaluate(
      {
        labels: ['a', 'c', 'b', 'c', 'd', 'oos'],
        predicted: ['a', 'a', 'b', 'b', 'a', null],
        classes: ['a', 'b'],
        probabilities: [
          [0.8, 0.2],
          [0.5, 0.5],
          [0.3, 0.7],
          [0.4, 0.6],
          [0.9, 0.1],
          [0.5, 0.5],
        ],
      },
      noBootstrap,
    );
    assert.deepEqual(result.unseenLabels, [
      { label: 'c', count: 2 },
      { label: 'd', count: 1 },
    ]);
    close(result.logLoss, (-Math.log(0.8) - Math.log(0.7)) / 2, 1e-12);
    assert.equal(result.calibration?.rows, 2);
    close(result.accuracy, 3 / 6, 1e-12);
  });
});

describe('bootstrap intervals', () => {
  function noisy(n: number, accuracy: number, seed: number): EvaluationInput {
    const random = seededRandom(seed);
    const classes = ['a', 'b', 'c', 'd'];
    const labels: string[] = [];
    const predicted: string[] = [];
    for (let i = 0; i < n; i += 1) {
      const label = classes[i % 4] as string;
      labels.push(label);
      predicted.push(random() < accuracy ? label : (classes[(i + 1) % 4] as string));
    }
    return { labels, predicted };
  }

  it('are reproducible for a seed, contain the estimate and differ for another seed', () => {
    const input = noisy(400, 0.8, 7);
    const first = evaluate(input);
    const again = evaluate(input);
    assert.deepEqual(first.intervals, again.intervals);
    assert.equal(first.intervals?.resamples, 1000);
    const ci = first.intervals;
    assert.ok(ci);
    assert.ok(ci.accuracy.low < first.accuracy && first.accuracy < ci.accuracy.high, JSON.stringify(ci));
    assert.ok(ci.macroF1.low < first.macroF1 && first.macroF1 < ci.macroF1.high, JSON.stringify(ci));
    // Binomial standard error √(0.8·0.2/400) = 0.02: a 95% interval about ±0.04 wide.
    const width = ci.accuracy.high - ci.accuracy.low;
    assert.ok(width > 0.06 && width < 0.1, `width ${width}`);
    assert.notDeepEqual(evaluate(input, { bootstrap: { seed: 2 } }).intervals?.accuracy, ci.accuracy);
  });

  it('equal a naive bootstrap (same draws, metrics recomputed row by row, numpy percentiles)', () => {
    const input = noisy(97, 0.6, 5);
    const resamples = 200;
    const seed = 9;
    const random = seededRandom(seed);
    const n = input.labels.length;
    const accuracies: number[] = [];
    const macros: number[] = [];
    for (let r = 0; r < resamples; r += 1) {
      const rows = Array.from({ length: n }, () => Math.floor(random() * n));
      const truth = rows.map((i) => input.labels[i] as string);
      const pred = rows.map((i) => input.predicted[i] as string);
      accuracies.push(truth.filter((t, j) => t === pred[j]).length / n);
      const present = [...new Set([...truth, ...pred])];
      const f1s = present.map((c) => {
        const tp = truth.filter((t, j) => t === c && pred[j] === c).length;
        const fp = pred.filter((p, j) => p === c && truth[j] !== c).length;
        const fn = truth.filter((t, j) => t === c && pred[j] !== c).length;
        return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
      });
      macros.push(f1s.reduce((a, b) => a + b, 0) / present.length);
    }
    const quantile = (values: number[], q: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      const position = q * (sorted.length - 1);
      const below = Math.floor(position);
      const low = sorted[below] as number;
      const high = sorted[Math.min(sorted.length - 1, below + 1)] as number;
      return low + (high - low) * (position - below);
    };
    const ci = evaluate(input, { bootstrap: { resamples, seed } }).intervals;
    close(ci?.accuracy.low, quantile(accuracies, 0.025), 1e-12, 'accuracy low');
    close(ci?.accuracy.high, quantile(accuracies, 0.975), 1e-12, 'accuracy high');
    close(ci?.macroF1.low, quantile(macros, 0.025), 1e-12, 'macro F1 low');
    close(ci?.macroF1.high, quantile(macros, 0.975), 1e-12, 'macro F1 high');
  });

  it('collapse to a point for a perfect model', () => {
    const ci = evaluate({ labels: ['a', 'b', 'a', 'b'], predicted: ['a', 'b', 'a', 'b'] }).intervals;
    assert.deepEqual([ci?.accuracy, ci?.macroF1], [{ low: 1, high: 1 }, { low: 1, high: 1 }]);
  });

  it('are fast: 20,000 rows, 150 classes, 1000 resamples', () => {
    const random = seededRandom(3);
    const labels: string[] = [];
    const predicted: string[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const label = `intent_${i % 150}`;
      labels.push(label);
      predicted.push(random() < 0.9 ? label : `intent_${(i + 7) % 150}`);
    }
    const started = performance.now();
    const result = evaluate({ labels, predicted });
    const elapsed = performance.now() - started;
    assert.equal(result.confusion.kind, 'top');
    assert.ok(elapsed < 5_000, `took ${elapsed.toFixed(0)} ms`);
  });
});

describe('compare', () => {
  function models(n: number): { labels: string[]; good: string[]; poor: string[] } {
    const random = seededRandom(11);
    const classes = ['a', 'b', 'c'];
    const labels: string[] = [];
    const good: string[] = [];
    const poor: string[] = [];
    for (let i = 0; i < n; i += 1) {
      const label = classes[i % 3] as string;
      const wrong = classes[(i + 1) % 3] as string;
      labels.push(label);
      good.push(random() < 0.95 ? label : wrong);
      poor.push(random() < 0.7 ? label : wrong);
    }
    return { labels, good, poor };
  }

  it('calls a clearly better candidate better, and the reverse worse', () => {
    const { labels, good, poor } = models(300);
    const better = compare({ labels, predicted: good }, { labels, predicted: poor });
    assert.equal(better.verdict, 'better', better.explanation);
    assert.equal(better.primary, 'macroF1');
    const d = better.deltas.macroF1;
    assert.ok(d.interval && d.interval.low > 0 && d.delta !== null && d.delta > 0.15);
    close(better.deltas.accuracy.delta, better.candidate.accuracy - better.champion.accuracy, 1e-12);
    assert.equal(better.deltas.logLoss.delta, null);

    const worse = compare({ labels, predicted: poor }, { labels, predicted: good }, { primary: 'accuracy' });
    assert.equal(worse.verdict, 'worse', worse.explanation);
    assert.ok(worse.deltas.accuracy.interval && worse.deltas.accuracy.interval.high < 0);
  });

  it('is inconclusive for the same predictions and for a tiny difference on few rows', () => {
    const { labels, good } = models(60);
    const same = compare({ labels, predicted: good }, { labels, predicted: good });
    assert.equal(same.verdict, 'inconclusive');
    assert.deepEqual(same.deltas.macroF1.interval, { low: 0, high: 0 });
    const oneRowBetter = [...good];
    const index = oneRowBetter.findIndex((p, i) => p !== labels[i]);
    oneRowBetter[index] = labels[index] as string;
    assert.equal(compare({ labels, predicted: oneRowBetter }, { labels, predicted: good }).verdict, 'inconclusive');
  });

  it('refuses rows that differ between the two models', () => {
    assert.throws(() => compare({ labels: ['a', 'b'], predicted: ['a', 'b'] }, { labels: ['b', 'a'], predicted: ['a', 'b'] }), invalidNaming(/champion\.labels/));
  });
});

describe('Markdown reports', () => {
  it('renders an evaluation as tables', () => {
    const result = evaluate({
      labels: ['0', '0', '1', '1', 'oos'],
      predicted: ['0', '1', '1', '1', null],
      classes: ['0', '1'],
      probabilities: [
        [0.9, 0.1],
        [0.4, 0.6],
        [0.35, 0.65],
        [0.2, 0.8],
        [0.5, 0.5],
      ],
    });
    const report = renderEvaluationReport(result, { title: 'intents v2 on test' });
    assert.match(report, /^# intents v2 on test\n/);
    assert.match(report, /\| Metric \| Value \| 95% interval \|/);
    assert.match(report, /\| Accuracy \| 0\.8000 \| \[/);
    assert.match(report, /\| In-scope accuracy \| 0\.7500 \|/);
    assert.match(report, /\| ROC-AUC \(positive: 1\) \| 1 \|/);
    assert.match(report, /## Confusion matrix/);
    assert.match(report, /\| True ↓ \/ predicted → \| 0 \| 1 \| oos \|/);
    assert.match(report, /\| 0 \| 1 \| 1 \| 0 \|/);
    assert.match(report, /## Calibration/);
    assert.match(report, /abstained on 1/);
  });

  it('renders a comparison with the verdict and deltas', () => {
    const labels = ['a', 'b', 'c', 'a', 'b', 'c'];
    const comparison = compare({ labels, predicted: ['a', 'b', 'c', 'a', 'b', 'a'] }, { labels, predicted: ['a', 'a', 'c', 'a', 'c', 'a'] });
    const report = renderComparisonReport(comparison, { candidateName: 'v3', championName: 'v2 (champion)' });
    assert.match(report, /^# v3 vs v2 \(champion\)/);
    assert.match(report, /\*\*Verdict: (better|worse|inconclusive)\*\*/);
    assert.match(report, /\| Metric \| v2 \(champion\) \| v3 \| Δ \| 95% interval of Δ \|/);
    assert.match(report, /\| Accuracy \| 0\.5000 \| 0\.8333 \| \+0\.3333 \| \[/);
    assert.match(report, /## Per-class F1 changes/);
    assert.doesNotMatch(report, /Log loss/);
  });
});
