/**
 * Training the built-in dense embedder on a knowledge base's own text, with nothing downloaded.
 *
 * LSA (compressing the term matrix) scores 0.70 nDCG@10 on the shared man-page set, below BM25;
 * this model instead learns what a searcher's words point at. Pseudo-queries are cut from each
 * passage's own sentences (a window of 4–8 words), and a dual encoder (one embedding table E,
 * text → normalised Σ weight·E[term]) learns to find the rest of the passage — the passage with
 * that sentence removed — among the other passages of the batch (in-batch softmax, temperature τ,
 * Adam). Words that co-occur with a passage's topic thus move near it even when a query uses
 * words the passage lacks. Every other epoch the batches are filled with groups of lexically
 * similar passages (hard negatives): on the tuning half of the shared man-page queries the dense
 * leg alone went from 0.839 to 0.870 nDCG@10 (held-out half: 0.796 → 0.832). Deterministic for a seed.
 */
import { sentences, tokenize } from '../../text/tokenize.ts';
import { buildVocabulary, featurize, type Bag, type Vocabulary } from './featurize.ts';

export interface TrainOptions {
  readonly dimensions: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly temperature: number;
  readonly learningRate: number;
  readonly seed: number;
  /**
   * Every other epoch, batches are filled with groups of lexically similar passages, so the
   * in-batch negatives are hard ones (passages sharing the rare words of the positive).
   */
  readonly hardNegatives: boolean;
  /** Called after each epoch (0-based) with the mean loss; may throw to stop (cancellation). */
  readonly onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

export const DEFAULT_TRAINING: TrainOptions = { dimensions: 128, epochs: 6, batchSize: 128, temperature: 0.05, learningRate: 0.05, seed: 42, hardNegatives: true };

export interface TrainedEmbedder {
  readonly vocabulary: Vocabulary;
  readonly dimensions: number;
  /** (V+1) × d, row 0 = padding (zeros). */
  readonly table: Float32Array;
  readonly pairs: number;
}

interface Pair {
  readonly passage: number;
  readonly query: readonly string[];
  readonly rest: Bag;
}

export async function trainEmbedder(texts: readonly string[], options: Partial<TrainOptions> = {}): Promise<TrainedEmbedder> {
  const settings = { ...DEFAULT_TRAINING, ...options };
  const random = mulberry32(settings.seed);
  const tokenized = texts.map((text) => tokenize(text));
  const vocabulary = buildVocabulary(tokenized);
  const size = vocabulary.terms.size + 1;
  const d = settings.dimensions;
  const table = new Float32Array(size * d);
  for (let i = d; i < table.length; i += 1) table[i] = gaussian(random) * 0.1;

  const pairs = pseudoQueries(texts, vocabulary, random);
  const adam = { m: new Float32Array(table.length), v: new Float32Array(table.length), step: 0 };
  const batch = Math.min(settings.batchSize, pairs.length);
  if (batch < 2) return { vocabulary, dimensions: d, table, pairs: pairs.length };
  const neighbours = settings.hardNegatives ? lexicalNeighbours(tokenized, vocabulary) : undefined;
  for (let epoch = 0; epoch < settings.epochs; epoch += 1) {
    shuffle(pairs, random);
    if (neighbours && epoch % 2 === 1) groupByNeighbours(pairs, neighbours, random);
    let loss = 0;
    let steps = 0;
    for (let at = 0; at + batch <= pairs.length; at += batch) {
      const slice = pairs.slice(at, at + batch);
      const queries = slice.map((pair) => windowBag(vocabulary, pair.query, random));
      loss += step(table, d, queries, slice.map((pair) => pair.rest), slice.map((pair) => pair.passage), settings, adam);
      steps += 1;
      // Long trainings yield to the event loop so the server keeps answering.
      if (steps % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await settings.onEpoch?.(epoch, steps > 0 ? loss / steps : 0);
  }
  return { vocabulary, dimensions: d, table, pairs: pairs.length };
}

/** For each passage, the (up to) 3 passages sharing most idf weight among their 12 rarest terms. */
function lexicalNeighbours(tokenized: ReadonlyArray<readonly string[]>, vocabulary: Vocabulary): number[][] {
  const signatures = tokenized.map((tokens) =>
    [...new Set(tokens)]
      .map((term) => vocabulary.terms.get(term))
      .filter((id): id is number => id !== undefined)
      .sort((a, b) => (vocabulary.idf[b] as number) - (vocabulary.idf[a] as number))
      .slice(0, 12),
  );
  const holders = new Map<number, number[]>();
  signatures.forEach((ids, passage) => {
    for (const id of ids) {
      let list = holders.get(id);
      if (!list) holders.set(id, (list = []));
      list.push(passage);
    }
  });
  return signatures.map((ids, passage) => {
    const shared = new Map<number, number>();
    for (const id of ids) {
      const list = holders.get(id) as number[];
      // A term in very many signatures says little about similarity.
      if (list.length > 50) continue;
      for (const other of list) if (other !== passage) shared.set(other, (shared.get(other) ?? 0) + (vocabulary.idf[id] as number));
    }
    return [...shared.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3).map(([other]) => other);
  });
}

/** Reorders `pairs` so that each passage's pairs sit next to its neighbours' (batches are cut in order). */
function groupByNeighbours(pairs: Pair[], neighbours: readonly number[][], random: () => number): void {
  const passages = [...new Set(pairs.map((pair) => pair.passage))];
  shuffle(passages, random);
  const position = new Map<number, number>();
  for (const passage of passages) {
    if (position.has(passage)) continue;
    const group = position.size;
    position.set(passage, group);
    for (const other of neighbours[passage] ?? []) if (!position.has(other)) position.set(other, group);
  }
  const order = new Map(pairs.map((pair) => [pair, random()]));
  pairs.sort((a, b) => (position.get(a.passage) as number) - (position.get(b.passage) as number) || (order.get(a) as number) - (order.get(b) as number));
}

/** Every sentence of ≥ 3 known words, paired with its passage minus that sentence. */
function pseudoQueries(texts: readonly string[], vocabulary: Vocabulary, random: () => number): Pair[] {
  const pairs: Pair[] = [];
  texts.forEach((text, passage) => {
    const all = tokenize(text);
    const spans = sentences(text);
    for (const span of spans) {
      const query = tokenize(text.slice(span.start, span.end));
      if (query.length < 3) continue;
      const rest = spans.length > 1 ? tokenize(text.slice(0, span.start) + ' ' + text.slice(span.end)) : all;
      if (rest.length === 0) continue;
      pairs.push({ passage, query, rest: featurize(vocabulary, rest, 'document') });
    }
  });
  void random;
  return pairs;
}

function windowBag(vocabulary: Vocabulary, query: readonly string[], random: () => number): Bag {
  if (query.length <= 8) return featurize(vocabulary, query, 'query');
  const length = 4 + Math.floor(random() * 5);
  const start = Math.floor(random() * (query.length - length + 1));
  return featurize(vocabulary, query.slice(start, start + length), 'query');
}

/** Embeds a bag: x = Σ w·E[id]; returns x and |x|. */
function encode(table: Float32Array, d: number, bag: Bag): { x: Float32Array; norm: number } {
  const x = new Float32Array(d);
  for (let j = 0; j < bag.ids.length; j += 1) {
    const w = bag.weights[j] as number;
    const row = (bag.ids[j] as number) * d;
    for (let c = 0; c < d; c += 1) x[c] = (x[c] as number) + w * (table[row + c] as number);
  }
  let sq = 0;
  for (let c = 0; c < d; c += 1) sq += (x[c] as number) ** 2;
  return { x, norm: Math.sqrt(sq) + 1e-9 };
}

function step(table: Float32Array, d: number, queries: readonly Bag[], passages: readonly Bag[], owners: readonly number[], settings: TrainOptions, adam: { m: Float32Array; v: Float32Array; step: number }): number {
  const n = queries.length;
  const q = queries.map((bag) => encode(table, d, bag));
  const p = passages.map((bag) => encode(table, d, bag));
  const qn = q.map(({ x, norm }) => x.map((value) => value / norm));
  const pn = p.map(({ x, norm }) => x.map((value) => value / norm));
  const gq = qn.map(() => new Float32Array(d));
  const gp = pn.map(() => new Float32Array(d));
  let loss = 0;
  const logits = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const qi = qn[i] as Float32Array;
    let max = -Infinity;
    for (let j = 0; j < n; j += 1) {
      // Another pseudo-query of the same passage is not a negative.
      if (j !== i && owners[j] === owners[i]) {
        logits[j] = -Infinity;
        continue;
      }
      const pj = pn[j] as Float32Array;
      let dot = 0;
      for (let c = 0; c < d; c += 1) dot += (qi[c] as number) * (pj[c] as number);
      const logit = dot / settings.temperature;
      logits[j] = logit;
      if (logit > max) max = logit;
    }
    let sum = 0;
    for (let j = 0; j < n; j += 1) {
      logits[j] = Math.exp((logits[j] as number) - max);
      sum += logits[j] as number;
    }
    loss -= Math.log((logits[i] as number) / sum + 1e-12);
    for (let j = 0; j < n; j += 1) {
      const g = ((logits[j] as number) / sum - (j === i ? 1 : 0)) / (n * settings.temperature);
      if (g === 0) continue;
      const pj = pn[j] as Float32Array;
      const gqi = gq[i] as Float32Array;
      const gpj = gp[j] as Float32Array;
      for (let c = 0; c < d; c += 1) {
        gqi[c] = (gqi[c] as number) + g * (pj[c] as number);
        gpj[c] = (gpj[c] as number) + g * (qi[c] as number);
      }
    }
  }
  const grad = new Map<number, Float32Array>();
  const scatter = (bag: Bag, normalized: Float32Array, gradient: Float32Array, norm: number) => {
    // d(x/|x|)/dx applied to the gradient: (g − (g·x̂)x̂)/|x|.
    let along = 0;
    for (let c = 0; c < d; c += 1) along += (gradient[c] as number) * (normalized[c] as number);
    const gx = new Float32Array(d);
    for (let c = 0; c < d; c += 1) gx[c] = ((gradient[c] as number) - along * (normalized[c] as number)) / norm;
    for (let j = 0; j < bag.ids.length; j += 1) {
      const id = bag.ids[j] as number;
      const w = bag.weights[j] as number;
      let row = grad.get(id);
      if (!row) grad.set(id, (row = new Float32Array(d)));
      for (let c = 0; c < d; c += 1) row[c] = (row[c] as number) + w * (gx[c] as number);
    }
  };
  for (let i = 0; i < n; i += 1) {
    scatter(queries[i] as Bag, qn[i] as Float32Array, gq[i] as Float32Array, (q[i] as { norm: number }).norm);
    scatter(passages[i] as Bag, pn[i] as Float32Array, gp[i] as Float32Array, (p[i] as { norm: number }).norm);
  }
  // Lazy Adam: only the rows this batch touched move (their moments decay when touched).
  adam.step += 1;
  const b1 = 0.9;
  const b2 = 0.999;
  const correction1 = 1 - b1 ** adam.step;
  const correction2 = 1 - b2 ** adam.step;
  for (const [id, row] of grad) {
    const base = id * d;
    for (let c = 0; c < d; c += 1) {
      const k = base + c;
      const g = row[c] as number;
      const m = b1 * (adam.m[k] as number) + (1 - b1) * g;
      const v = b2 * (adam.v[k] as number) + (1 - b2) * g * g;
      adam.m[k] = m;
      adam.v[k] = v;
      table[k] = (table[k] as number) - (settings.learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + 1e-8);
    }
  }
  return loss / n;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
