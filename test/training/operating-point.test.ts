/**
 * The abstain threshold's objective on synthetic scores with known distributions, and the
 * trade-off curve against a recomputation from the predictions.
 *
 * In-scope rows are answered right with top probability ~ U(0.3, 1); out-of-scope rows get top
 * probability ~ U(0.2, 0.5). So OOS recall(t) = (t − 0.2) / 0.3 and in-scope accuracy(t) =
 * 1 − (t − 0.3) / 0.7 on [0.3, 0.5]: a recall target of 0.6 is met first at t = 0.38 (accuracy
 * 0.886); the cost objective jumps from t ≈ 0.3 to t ≈ 0.5 when the cost ratio passes 0.3 / 0.7.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { operatingFigures } from '../../gpu-workers/recipes/evaluation/operating.ts';
import { heldOutClasses } from '../../gpu-workers/recipes/ml/abstain.ts';
import { argmax } from '../../gpu-workers/recipes/ml/matrix.ts';
import { aurocOf, chooseByObjective, noAbstainAccuracy, oosDetectionAuroc, operatingCurve } from '../../gpu-workers/recipes/ml/operating-point.ts';
import { Prng } from '../../gpu-workers/recipes/ml/prng.ts';

const CLASSES = 10;

/** Rows with a given top class and top probability; the rest spread evenly over the other classes. */
function synthetic(inScope: number, oos: number, seed: number, oosClass = -1): { probabilities: Float32Array; labels: Int32Array } {
  const rng = Prng.fromSeed(seed);
  const rows = inScope + oos;
  const probabilities = new Float32Array(rows * CLASSES);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const isOos = r >= inScope;
    const top = isOos ? 0.2 + 0.3 * rng.next() : 0.3 + 0.7 * rng.next();
    // In-scope rows: a class other than the OOS one; OOS rows: predicted as some class, true label -1
    // (or the OOS class for a tenth of them when it is trained, predicted as it: already caught).
    let label = rng.nextInt(CLASSES);
    if (label === oosClass) label = (label + 1) % CLASSES;
    let predicted = label;
    if (isOos) {
      labels[r] = oosClass >= 0 && r % 10 === 0 ? oosClass : -1;
      if (oosClass >= 0 && labels[r] === oosClass) predicted = oosClass;
    } else labels[r] = label;
    for (let c = 0; c < CLASSES; c++) probabilities[r * CLASSES + c] = c === predicted ? top : (1 - top) / (CLASSES - 1);
  }
  return { probabilities, labels };
}

/** The figures at threshold t, counted row by row from the predictions. */
function recount(probabilities: Float32Array, labels: Int32Array, oosClass: number, t: number, confidence?: ArrayLike<number>): { inScopeAccuracy: number; oosRecall: number } {
  let inScope = 0;
  let correct = 0;
  let oos = 0;
  let caught = 0;
  for (let r = 0; r < labels.length; r++) {
    const predicted = argmax(probabilities, r * CLASSES, CLASSES);
    const score = confidence ? (confidence[r] as number) : (probabilities[r * CLASSES + predicted] as number);
    const abstains = score < t || predicted === oosClass;
    const label = labels[r] as number;
    if (label < 0 || label === oosClass) {
      oos += 1;
      if (abstains) caught += 1;
    } else {
      inScope += 1;
      if (!abstains && predicted === label) correct += 1;
    }
  }
  return { inScopeAccuracy: correct / inScope, oosRecall: oos > 0 ? caught / oos : Number.NaN };
}

describe('abstain threshold by objective', () => {
  const { probabilities, labels } = synthetic(4000, 4000, 11);
  const curve = operatingCurve(probabilities, labels, CLASSES, -1);

  it('meets the OOS recall target at the highest in-scope accuracy, where the distributions put it', () => {
    const chosen = chooseByObjective(curve, { kind: 'oos-recall-target', oosRecallTarget: 0.6 });
    assert.equal(chosen.targetMet, true);
    assert.ok(chosen.oosRecall >= 0.6, `recall ${chosen.oosRecall}`);
    assert.ok(Math.abs(chosen.threshold - 0.38) < 0.01, `threshold ${chosen.threshold}`);
    assert.ok(Math.abs(chosen.inScopeAccuracy - (1 - 0.08 / 0.7)) < 0.015, `accuracy ${chosen.inScopeAccuracy}`);
    // No point meeting the target is better.
    for (const p of curve.points) if (p.oosRecall >= 0.6) assert.ok(p.inScopeAccuracy <= chosen.inScopeAccuracy);
    // A target above what any threshold reaches is reported as missed.
    const strict = chooseByObjective(operatingCurve(probabilities, labels, CLASSES, -1), { kind: 'oos-recall-target', oosRecallTarget: 0.8 });
    assert.ok(Math.abs(strict.threshold - 0.44) < 0.01);
  });

  it('minimises the stated cost: cheap misses keep the threshold low, dear ones raise it', () => {
    const cheap = chooseByObjective(curve, { kind: 'cost', costRatio: 0.2 });
    const dear = chooseByObjective(curve, { kind: 'cost', costRatio: 1 });
    assert.ok(Math.abs(cheap.threshold - 0.3) < 0.01, `cheap ${cheap.threshold}`);
    assert.ok(Math.abs(dear.threshold - 0.5) < 0.01, `dear ${dear.threshold}`);
    const cost = (p: { inScopeAccuracy: number; oosRecall: number }, ratio: number) => 1 - p.inScopeAccuracy + ratio * (1 - p.oosRecall);
    for (const p of curve.points) assert.ok(cost(p, 1) >= cost(dear, 1) - 1e-12);
  });

  it("the curve's points equal a recount from the predictions, with and without a trained OOS class", () => {
    for (const oosClass of [-1, 3]) {
      const data = synthetic(700, 300, 5 + oosClass, oosClass);
      const own = operatingCurve(data.probabilities, data.labels, CLASSES, oosClass);
      assert.ok(own.points.length > 900, `${own.points.length} points`);
      assert.equal(own.points[0]?.threshold, 0);
      for (const p of own.points) {
        const expected = recount(data.probabilities, data.labels, oosClass, p.threshold);
        assert.equal(p.inScopeAccuracy, expected.inScopeAccuracy, `t=${p.threshold}`);
        assert.equal(p.oosRecall, expected.oosRecall, `t=${p.threshold}`);
      }
      assert.equal(own.inScopeRows + own.oosRows, 1000);
      // Every step of the curve is monotone: a higher threshold never answers more.
      for (let i = 1; i < own.points.length; i++) assert.ok((own.points[i]?.oosRecall as number) >= (own.points[i - 1]?.oosRecall as number));
    }
  });

  it('AUROC of OOS detection equals the pairwise count; the accuracy without abstaining ignores the threshold', () => {
    const small = synthetic(120, 80, 3);
    const auroc = oosDetectionAuroc(small.probabilities, small.labels, CLASSES, -1);
    let wins = 0;
    const top = (r: number) => small.probabilities[r * CLASSES + argmax(small.probabilities, r * CLASSES, CLASSES)] as number;
    for (let i = 120; i < 200; i++) for (let j = 0; j < 120; j++) wins += top(i) < top(j) ? 1 : top(i) === top(j) ? 0.5 : 0;
    assert.ok(Math.abs(auroc - wins / (80 * 120)) < 1e-12);
    assert.equal(aurocOf([{ score: 1, oos: true }, { score: 0, oos: false }]), 1);
    assert.ok(Number.isNaN(aurocOf([{ score: 1, oos: true }])));
    assert.equal(noAbstainAccuracy(small.probabilities, small.labels, CLASSES, -1), 1);
  });

  it('with a confidence other than the top probability (a centroid cosine), the curve, the AUROC and the objective use it', () => {
    // The top probabilities overlap as above; the confidence separates better: in-scope ~ U(0.5, 1),
    // OOS ~ U(0.2, 0.6).
    const data = synthetic(600, 400, 31);
    const rng = Prng.fromSeed(32);
    const confidence = Float32Array.from(data.labels, (label) => (label < 0 ? 0.2 + 0.4 * rng.next() : 0.5 + 0.5 * rng.next()));
    const curve = operatingCurve(data.probabilities, data.labels, CLASSES, -1, confidence);
    for (const p of curve.points) {
      const expected = recount(data.probabilities, data.labels, -1, p.threshold, confidence);
      assert.deepEqual([p.inScopeAccuracy, p.oosRecall], [expected.inScopeAccuracy, expected.oosRecall], `t=${p.threshold}`);
    }
    // Recall target 0.6 → t ≈ 0.44 (0.2 + 0.6 · 0.4), where every in-scope row still answers.
    const chosen = chooseByObjective(curve, { kind: 'oos-recall-target', oosRecallTarget: 0.6 });
    assert.ok(chosen.targetMet && Math.abs(chosen.threshold - 0.44) < 0.03, JSON.stringify(chosen));
    assert.equal(chosen.inScopeAccuracy, 1);
    let wins = 0;
    for (let i = 600; i < 1000; i++) for (let j = 0; j < 600; j++) wins += (confidence[i] as number) < (confidence[j] as number) ? 1 : confidence[i] === confidence[j] ? 0.5 : 0;
    assert.ok(Math.abs(oosDetectionAuroc(data.probabilities, data.labels, CLASSES, -1, confidence) - wins / (400 * 600)) < 1e-12);
    assert.ok(oosDetectionAuroc(data.probabilities, data.labels, CLASSES, -1) < oosDetectionAuroc(data.probabilities, data.labels, CLASSES, -1, confidence));
    // eval_run's figures with the model's confidence.
    const classes = Array.from({ length: CLASSES }, (_, c) => `intent_${c}`);
    const labels = Array.from(data.labels, (label) => (label < 0 ? 'oos' : (classes[label] as string)));
    const rows = labels.map((_, r) => Array.from(data.probabilities.subarray(r * CLASSES, (r + 1) * CLASSES)));
    const figures = operatingFigures({ labels, probabilities: rows, classes, confidence: Array.from(confidence) }, 'oos', 0.44, 41);
    const expected = recount(data.probabilities, data.labels, -1, 0.44, confidence);
    assert.deepEqual([figures?.inScopeAccuracy, figures?.oosRecall], [expected.inScopeAccuracy, expected.oosRecall]);
  });

  it('holds out a seeded share of the intents, never the OOS class, leaving at least two', () => {
    const a = heldOutClasses(77, -1, 0.25, 42);
    assert.equal(a.length, 19);
    assert.deepEqual(heldOutClasses(77, -1, 0.25, 42), a);
    assert.notDeepEqual(heldOutClasses(77, -1, 0.25, 43), a);
    assert.ok(!heldOutClasses(11, 4, 0.5, 1).includes(4));
    assert.equal(heldOutClasses(3, -1, 0.5, 1).length, 1);
    assert.equal(heldOutClasses(2, -1, 0.5, 1).length, 0);
  });

  it("eval_run's figures (string labels, OOS label, unseen labels left out) equal a recount at the model's threshold and on the curve", () => {
    const data = synthetic(300, 200, 21);
    const classes = Array.from({ length: CLASSES }, (_, c) => `intent_${c}`);
    const labels = Array.from(data.labels, (label) => (label < 0 ? 'oos' : (classes[label] as string)));
    labels.push('never_seen');
    const rows = Array.from({ length: labels.length }, (_, r) => Array.from(data.probabilities.subarray((r % 500) * CLASSES, ((r % 500) + 1) * CLASSES)));
    const figures = operatingFigures({ labels, probabilities: rows, classes }, 'oos', 0.41, 41);
    assert.ok(figures);
    const expected = recount(data.probabilities, data.labels, -1, 0.41);
    assert.equal(figures.inScopeAccuracy, expected.inScopeAccuracy);
    assert.equal(figures.oosRecall, expected.oosRecall);
    assert.equal(figures.curve.length, 41);
    for (const p of figures.curve) {
      const again = recount(data.probabilities, data.labels, -1, p.threshold);
      assert.deepEqual([p.inScopeAccuracy, p.oosRecall], [again.inScopeAccuracy, again.oosRecall], `t=${p.threshold}`);
    }
    assert.equal(figures.noAbstainAccuracy, 1);
    assert.ok(figures.oosAuroc !== null && figures.oosAuroc > 0.8);
  });
});
