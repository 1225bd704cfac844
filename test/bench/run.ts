/**
 * Benchmark runner: `npm run bench` runs every `test/bench/*.bench.ts`, `npm run bench -- <name>…`
 * runs the named ones. Each figure becomes one JSON line on stdout:
 *
 *   {"bench":"mcp","metric":"whoami_c1_p50_ms","value":1.9,"unit":"ms","anchor":1.6,"ratio":1.19}
 *
 * `anchor` is the reference measured side by side in the same run and `ratio` is value/anchor
 * (`null` when the anchor is 0, e.g. an error count whose target is zero). Progress and summaries
 * go to stderr, so stdout can be piped straight into a file or `jq`.
 *
 * Exit codes: 0 all ran, 1 a benchmark failed to run, 2 unknown benchmark name or a bad module.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

/** A figure as a benchmark reports it; the runner adds the bench name and the ratio. */
export interface Figure {
  metric: string;
  value: number;
  unit: string;
  /**
   * The reference measured side by side in the same run (or 0 for error counts); null when the
   * reference could not run here (the line then has no ratio, and the log says why).
   */
  anchor: number | null;
}

/** What the runner hands a benchmark. */
export interface BenchContext {
  /** Human-readable progress, to stderr, prefixed with the benchmark's name. */
  log(message: string): void;
  /** The repository root (benchmarks start `bin/anvil.mjs` and fixtures from here). */
  root: string;
}

/** The contract of a `*.bench.ts` module. */
export interface BenchModule {
  /** The name used on the command line and in the `bench` field of every line. */
  name: string;
  /** One sentence for the list of available benchmarks. */
  description?: string;
  run(context: BenchContext): Promise<Figure[]>;
}

export interface FigureLine extends Figure {
  bench: string;
  ratio: number | null;
}

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 1 : magnitude >= 1 ? 3 : 4;
  return Number(value.toFixed(digits));
}

export function toLine(bench: string, figure: Figure): FigureLine {
  return {
    bench,
    metric: figure.metric,
    value: round(figure.value),
    unit: figure.unit,
    anchor: figure.anchor === null ? null : round(figure.anchor),
    ratio: figure.anchor === null || figure.anchor === 0 ? null : round(figure.value / figure.anchor),
  };
}

function isBenchModule(value: unknown): value is BenchModule {
  if (!value || typeof value !== 'object') return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.name === 'string' && candidate.name.length > 0 && typeof candidate.run === 'function';
}

async function discover(): Promise<Map<string, BenchModule>> {
  const files = (await readdir(benchDir)).filter((file) => file.endsWith('.bench.ts')).sort();
  const found = new Map<string, BenchModule>();
  for (const file of files) {
    const loaded: unknown = await import(pathToFileURL(join(benchDir, file)).href);
    if (!isBenchModule(loaded)) {
      process.stderr.write(`bench: ${file} does not export \`name\` (string) and \`run(context)\`\n`);
      process.exit(2);
    }
    if (found.has(loaded.name)) {
      process.stderr.write(`bench: two modules are named "${loaded.name}" (${file} and another)\n`);
      process.exit(2);
    }
    found.set(loaded.name, loaded);
  }
  return found;
}

function available(benches: Map<string, BenchModule>): string {
  return [...benches.values()].map((bench) => `  ${bench.name}${bench.description ? ` — ${bench.description}` : ''}`).join('\n');
}

async function main(): Promise<number> {
  const benches = await discover();
  const requested = process.argv.slice(2).filter((arg) => arg !== '--');
  if (requested.includes('--help') || requested.includes('-h') || requested.includes('--list')) {
    process.stderr.write(`Usage: npm run bench [-- <name>...]\nAvailable benchmarks:\n${available(benches)}\n`);
    return 0;
  }
  const unknown = requested.filter((name) => !benches.has(name));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.map((name) => `"${name}"`).join(', ')}\nAvailable benchmarks:\n${available(benches)}\n`);
    return 2;
  }
  const selected = requested.length > 0 ? [...new Set(requested)].map((name) => benches.get(name) as BenchModule) : [...benches.values()];

  let failed = 0;
  for (const bench of selected) {
    const started = performance.now();
    const log = (message: string) => process.stderr.write(`[${bench.name}] ${message}\n`);
    log('starting');
    try {
      const figures = await bench.run({ log, root });
      for (const figure of figures) process.stdout.write(`${JSON.stringify(toLine(bench.name, figure))}\n`);
      log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s, ${figures.length} figures`);
    } catch (error) {
      failed++;
      log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
// Benchmarks close what they open; should a stray handle (a keep-alive socket) linger, do not hang on it.
setTimeout(() => process.exit(), 5_000).unref();
