/**
 * Where kb_eval's labelled queries come from: inline, a JSONL file under the allowed roots, or a
 * dataset registered with the datasets plugin (its stored, normalised JSONL, optionally one split).
 * Every form ends as `{id, text, relevant: [docId]}`.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AnvilError, ErrorCodes, z } from 'anvil/plugin';
import { openWithinRoots, type DatasetsRuntime } from '../datasets/index.ts';
import type { EvalQuery } from './evaluate.ts';

export const MAX_QUERIES = 5000;

export const querySchema = z.object({ id: z.string().min(1).max(500), text: z.string().min(1).max(2000), relevant: z.array(z.string().min(1).max(1000)).min(1).max(100) }).strict();

export const datasetSourceSchema = z
  .object({
    dataset: z.string().min(1).max(200).describe('A dataset of this project (datasets_list)'),
    version: z.number().int().min(1).optional().describe('Default: the latest'),
    split: z.enum(['train', 'validation', 'test']).optional().describe('Only the rows of this split (default: every row)'),
    relevantColumn: z.string().min(1).max(200).optional().describe("The column naming the relevant document: one id, or a JSON array of ids as a string. Default: 'relevant' when the dataset has it, else its label column"),
  })
  .strict();
export type DatasetSource = z.output<typeof datasetSourceSchema>;

export interface QueryFiles {
  readonly roots: readonly string[];
  readonly protectedPaths: () => readonly string[];
  readonly cwd: string;
  readonly datasets: () => DatasetsRuntime;
  /** The stored file of a dataset version (the jobs plugin's blob store). */
  readonly blobFile: (sha256: string) => Promise<string>;
}

function invalid(message: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message);
}

function tooMany(): AnvilError {
  return invalid(`queries: at most ${MAX_QUERIES} queries per evaluation`);
}

/** A JSONL file of `{id, text, relevant: [docId]}` under the roots. */
export async function queriesFromFile(file: string, where: QueryFiles): Promise<EvalQuery[]> {
  const opened = await openWithinRoots(path.resolve(where.cwd, file), where.roots, where.cwd, where.protectedPaths());
  let text: string;
  try {
    if (opened.size > 64 * 1024 ** 2) throw invalid(`queries: ${file} is over 64 MB`);
    text = await opened.handle.readFile('utf8');
  } finally {
    await opened.handle.close();
  }
  const out: EvalQuery[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw invalid(`queries: line ${i + 1} of ${file} is not JSON`);
    }
    const checked = querySchema.safeParse(parsed);
    if (!checked.success) throw invalid(`queries: line ${i + 1} of ${file} must be {id, text, relevant: [docId]} (${checked.error.issues[0]?.path.join('.') ?? ''}: ${checked.error.issues[0]?.message ?? ''})`);
    out.push(checked.data);
    if (out.length > MAX_QUERIES) throw tooMany();
  }
  if (out.length === 0) throw invalid(`queries: ${file} holds no query`);
  return out;
}

function relevantOf(value: unknown, where: string): string[] {
  if (typeof value === 'number') return [String(value)];
  if (typeof value !== 'string' || value.trim().length === 0) throw invalid(`${where}: the relevant column is empty`);
  const trimmed = value.trim();
  if (!trimmed.startsWith('[')) return [trimmed];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw invalid(`${where}: the relevant column starts with [ but is not a JSON array of document ids`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 100 || !parsed.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 1000)) {
    throw invalid(`${where}: the relevant column must hold 1 to 100 document ids`);
  }
  return parsed as string[];
}

/** The rows of a registered dataset version (one split, if asked) as labelled queries. */
export async function queriesFromDataset(project: string, source: DatasetSource, where: QueryFiles): Promise<{ queries: EvalQuery[]; dataset: { name: string; version: number; split: string | null } }> {
  const dataset = await where.datasets().store.resolve(project, source.dataset, source.version);
  const names = new Set(dataset.columns.map((column) => column.name));
  const textColumn = dataset.textColumn ?? (names.has('text') ? 'text' : undefined);
  if (!textColumn) throw invalid(`queries.dataset: ${dataset.name} v${dataset.version} has no text column (import it with textColumn)`);
  const relevantColumn = source.relevantColumn ?? (names.has('relevant') ? 'relevant' : (dataset.labelColumn ?? undefined));
  if (!relevantColumn || !names.has(relevantColumn)) {
    throw invalid(`queries.relevantColumn: ${dataset.name} v${dataset.version} has no ${relevantColumn ? `column ${relevantColumn}` : "'relevant' or label column"}; name the column holding each query's relevant document id`);
  }
  const idColumn = names.has('id') ? 'id' : undefined;
  const file = await where.blobFile(dataset.sha256);
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  const queries: EvalQuery[] = [];
  let row = 0;
  try {
    for await (const line of lines) {
      if (line.length === 0) continue;
      row += 1;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (source.split !== undefined && parsed.split !== source.split) continue;
      const text = parsed[textColumn];
      if (typeof text !== 'string' || text.trim().length === 0) continue;
      const where = `queries.dataset: row ${row} of ${dataset.name} v${dataset.version}`;
      const id = idColumn !== undefined && parsed[idColumn] !== null && parsed[idColumn] !== undefined ? String(parsed[idColumn]) : `row-${row}`;
      queries.push({ id, text: text.slice(0, 2000), relevant: relevantOf(parsed[relevantColumn], where) });
      if (queries.length > MAX_QUERIES) throw tooMany();
    }
  } finally {
    lines.close();
  }
  if (queries.length === 0) throw invalid(`queries.dataset: ${dataset.name} v${dataset.version} has no rows${source.split ? ` in its ${source.split} split` : ''}`);
  return { queries, dataset: { name: dataset.name, version: dataset.version, split: source.split ?? null } };
}
