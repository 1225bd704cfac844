/**
 * Reads a source file once and writes its normalised JSONL: one object per row, values typed by
 * column (numbers as JSON numbers, everything else as strings, empty as null) in column order, plus
 * `split`. Two passes over local temp files, never over the source twice:
 *
 * 1. parse the source row by row, checking each (empty text or label, bad split value, wrong field
 *    count, bad JSON) and gathering column statistics, each row's label and split value; the raw
 *    rows go to a temp file as JSON arrays;
 * 2. once every row is known: the column types, the split assignment (stratified by label with a
 *    seed, unless the data names its splits) and the output, hashed (SHA-256) as it is written.
 *
 * Nothing here touches SQL or the blob store: a file that fails to parse leaves only temp files,
 * which the caller removes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import { ColumnStats, isEmpty, normalise, resolveColumns, type ColumnInfo, type ColumnType } from './columns.ts';
import { LIMITS } from './limits.ts';
import { openRows, type DatasetFormat, type RowSource, type Scalar } from './readers.ts';
import { SPLITS, splitCode, stratifiedSplit, type SplitCode, type SplitName } from './split.ts';

export interface ImportOptions {
  format?: DatasetFormat | undefined;
  textColumn?: string | undefined;
  labelColumn?: string | undefined;
  featureColumns?: readonly string[] | undefined;
  splitColumn?: string | undefined;
  split?: { validation?: number | undefined; test?: number | undefined; seed?: number | undefined } | undefined;
  columnTypes?: Readonly<Record<string, ColumnType>> | undefined;
}

export type SplitCounts = Record<SplitName, number>;
/** Per split, label → rows. */
export type LabelDistribution = Record<SplitName, Record<string, number>>;

/** What identifies an import besides its content: a re-import with equal options and content is the same version. */
export interface CanonicalOptions {
  textColumn: string | null;
  labelColumn: string | null;
  featureColumns: string[];
  splitColumn: string | null;
  split: { validation: number; test: number; seed: number } | null;
  columnTypes: Record<string, ColumnType>;
}

export interface PreparedDataset {
  /** The normalised JSONL (a temp file the caller stores, then removes). */
  file: string;
  sha256: string;
  sizeBytes: number;
  format: DatasetFormat;
  rows: number;
  columns: ColumnInfo[];
  textColumn: string | null;
  labelColumn: string | null;
  featureColumns: string[];
  splits: SplitCounts;
  labelDistribution: LabelDistribution;
  /** 'column': the data named the splits; 'stratified': by label with the seed; 'random': no label, shuffled with the seed. */
  splitMode: 'column' | 'stratified' | 'random';
  seed: number | null;
  options: CanonicalOptions;
}

export interface PrepareInput {
  chunks: AsyncIterable<Uint8Array>;
  /** The source size, for progress (0 when unknown). */
  size: number;
  format: DatasetFormat;
  options: ImportOptions;
  /** A directory for temp files. */
  workDir: string;
  signal?: AbortSignal | undefined;
  progress?: ((bytesRead: number, total: number, rows: number) => void) | undefined;
}

const TEXT_NAMES = ['text', 'sentence', 'utterance', 'query', 'content', 'prompt', 'input', 'question'];
const LABEL_NAMES = ['label', 'labels', 'category', 'intent', 'class', 'target'];

function invalid(message: string, details?: Record<string, unknown>): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message, details ? { details } : undefined);
}

/** Buffered line output to a file, optionally hashed. */
class LineWriter {
  private buffer: string[] = [];
  private buffered = 0;
  bytes = 0;
  constructor(
    private readonly handle: FileHandle,
    private readonly hash?: ReturnType<typeof createHash>,
  ) {}

  async write(line: string): Promise<void> {
    this.buffer.push(line, '\n');
    this.buffered += line.length + 1;
    if (this.buffered >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const data = Buffer.from(this.buffer.join(''), 'utf8');
    this.buffer = [];
    this.buffered = 0;
    this.hash?.update(data);
    this.bytes += data.length;
    await this.handle.write(data);
  }
}

function checkFractions(options: ImportOptions): { validation: number; test: number; seed: number } {
  const validation = options.split?.validation ?? LIMITS.defaultValidation;
  const test = options.split?.test ?? LIMITS.defaultTest;
  const seed = options.split?.seed ?? LIMITS.defaultSeed;
  for (const [what, value] of [['split.validation', validation], ['split.test', test]] as const) {
    if (!Number.isFinite(value) || value < 0 || value >= 1) throw invalid(`${what} must be a fraction from 0 up to (not including) 1, got ${value}`);
  }
  if (validation + test >= 1) throw invalid(`split.validation + split.test must leave rows for training (got ${validation} + ${test})`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw invalid(`split.seed must be an integer from 0 to ${2 ** 32 - 1}, got ${seed}`);
  return { validation, test, seed };
}

interface Roles {
  text: string | undefined;
  label: string | undefined;
  split: string | undefined;
}

function findByName(columns: readonly string[], names: readonly string[], exclude: ReadonlySet<string | undefined>): string | undefined {
  for (const wanted of names) {
    const found = columns.find((column) => column.toLowerCase() === wanted && !exclude.has(column));
    if (found) return found;
  }
  return undefined;
}

/** The text, label and split columns, from the options or by well-known names, once the columns are known. */
function resolveRoles(columns: readonly string[], options: ImportOptions, where: string): Roles {
  const missing = (option: string, name: string) =>
    invalid(`${where} has no column "${name}" (${option}); it has ${columns.length} column${columns.length === 1 ? '' : 's'} (names are matched exactly, case included)`, { column: name });
  for (const [option, name] of [['textColumn', options.textColumn], ['labelColumn', options.labelColumn], ['splitColumn', options.splitColumn]] as const) {
    if (name !== undefined && !columns.includes(name)) throw missing(option, name);
  }
  let split = options.splitColumn;
  if (split === undefined && options.split === undefined && columns.includes('split')) split = 'split';
  const labelTyped = Object.entries(options.columnTypes ?? {}).filter(([, type]) => type === 'label').map(([name]) => name);
  if (labelTyped.length > 1) throw invalid(`columnTypes marks ${labelTyped.map((name) => `"${name}"`).join(' and ')} as label; a dataset has one label column`);
  const typedLabel = labelTyped[0];
  if (typedLabel !== undefined && options.labelColumn !== undefined && typedLabel !== options.labelColumn) {
    throw invalid(`columnTypes marks "${typedLabel}" as the label, but labelColumn is "${options.labelColumn}"`);
  }
  if (typedLabel !== undefined && !columns.includes(typedLabel)) throw missing('columnTypes', typedLabel);
  const label = options.labelColumn ?? typedLabel ?? findByName(columns, LABEL_NAMES, new Set([split, options.textColumn]));
  const text = options.textColumn ?? findByName(columns, TEXT_NAMES, new Set([split, label]));
  if (label !== undefined && label === text) throw invalid(`column "${label}" cannot be both the text and the label`);
  if (split !== undefined && (split === label || split === text)) throw invalid(`column "${split}" cannot be both the split column and the ${split === label ? 'label' : 'text'}`);
  return { text, label, split };
}

/** Reads and checks every row, then writes the normalised JSONL. */
export async function prepareDataset(input: PrepareInput): Promise<PreparedDataset> {
  const { options, format } = input;
  const fractions = options.splitColumn === undefined ? checkFractions(options) : undefined;
  if (options.splitColumn !== undefined && options.split !== undefined) {
    throw invalid('give either splitColumn (the data names each row\'s split) or split (fractions and a seed), not both');
  }
  await mkdir(input.workDir, { recursive: true });
  const base = path.join(input.workDir, `datasets-${randomUUID()}`);
  const rawFile = `${base}.rows.part`;
  const outFile = `${base}.jsonl.part`;
  let keepOut = false;
  try {
    const pass1 = await readAll(input, rawFile);
    const result = await writeNormalised(input, pass1, fractions, rawFile, outFile, format);
    keepOut = true;
    return result;
  } finally {
    await rm(rawFile, { force: true });
    if (!keepOut) await rm(outFile, { force: true });
  }
}

interface FirstPass {
  source: RowSource;
  roles: Roles;
  rows: number;
  stats: ColumnStats[];
  labels: Map<string, number>;
  labelOf: number[];
  splitOf: SplitCode[];
}

async function* counting(chunks: AsyncIterable<Uint8Array>, onBytes: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    onBytes(chunk.length);
    yield chunk;
  }
}

async function readAll(input: PrepareInput, rawFile: string): Promise<FirstPass> {
  const { options, signal } = input;
  let bytesRead = 0;
  if (input.size > LIMITS.maxFileBytes) throw invalid(`the file is ${input.size} bytes; at most ${LIMITS.maxFileBytes} are imported`);
  const source = openRows(
    input.format,
    counting(input.chunks, (bytes) => {
      bytesRead += bytes;
      if (bytesRead > LIMITS.maxFileBytes) throw invalid(`the file is larger than ${LIMITS.maxFileBytes} bytes, the most imported`);
    }),
  );
  const stats: ColumnStats[] = [];
  const labels = new Map<string, number>();
  const labelOf: number[] = [];
  const splitOf: SplitCode[] = [];
  let roles: Roles | undefined;
  let rows = 0;
  const handle = await open(rawFile, 'w');
  try {
    const writer = new LineWriter(handle);
    for await (const row of source.rows) {
      const at = `${source.unit} ${row.at}`;
      roles ??= resolveRoles(source.columns, options, input.format === 'csv' ? 'header' : `the first row (${at})`);
      rows += 1;
      if (rows > LIMITS.maxRows) throw invalid(`more than ${LIMITS.maxRows} rows; split the file and import the parts as separate datasets`);
      if ((rows & 1023) === 0) {
        if (signal?.aborted) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the import was cancelled');
        input.progress?.(bytesRead, input.size, rows);
      }
      while (stats.length < source.columns.length) {
        const column = new ColumnStats(source.columns[stats.length] as string);
        column.padTo(rows - 1);
        stats.push(column);
      }
      const { columns } = source;
      const value = (name: string): Scalar | undefined => row.values[columns.indexOf(name)];
      if (roles.text !== undefined && isEmpty(value(roles.text))) throw invalid(`${at}: column "${roles.text}" is empty`, { column: roles.text, at: row.at });
      if (roles.label !== undefined) {
        const raw = value(roles.label);
        if (isEmpty(raw)) throw invalid(`${at}: column "${roles.label}" is empty`, { column: roles.label, at: row.at });
        const label = String(raw).trim();
        let index = labels.get(label);
        if (index === undefined) {
          if (labels.size >= LIMITS.maxLabels) throw invalid(`${at}: column "${roles.label}" has more than ${LIMITS.maxLabels} distinct values; is it really the label?`);
          index = labels.size;
          labels.set(label, index);
        }
        labelOf.push(index);
      }
      if (roles.split !== undefined) {
        const raw = value(roles.split);
        if (isEmpty(raw)) throw invalid(`${at}: column "${roles.split}" is empty; every row needs a split (train, validation or test)`, { column: roles.split, at: row.at });
        const code = splitCode(String(raw));
        if (code === undefined) throw invalid(`${at}: column "${roles.split}" holds a value that names no split; expected train, validation or test`, { column: roles.split, at: row.at });
        splitOf.push(code);
      }
      for (let position = 0; position < stats.length; position += 1) (stats[position] as ColumnStats).add(row.values[position], row.at);
      await writer.write(JSON.stringify(row.values));
    }
    await writer.flush();
  } finally {
    await handle.close();
  }
  if (!source.headerRead()) throw invalid('the file is empty');
  if (rows === 0 || !roles) throw invalid(input.format === 'csv' ? 'the file has a header but no rows' : 'the file has no rows');
  for (const column of stats) column.padTo(rows);
  if (roles.label !== undefined && labels.size < 2) {
    throw invalid(`a classifier needs at least 2 labels; column "${roles.label}" holds only one`, { column: roles.label });
  }
  return { source, roles, rows, stats, labels, labelOf, splitOf };
}

async function writeNormalised(
  input: PrepareInput,
  pass: FirstPass,
  fractions: { validation: number; test: number; seed: number } | undefined,
  rawFile: string,
  outFile: string,
  kind: DatasetFormat,
): Promise<PreparedDataset> {
  const { options } = input;
  const { roles, source, stats, rows } = pass;
  const columnNames = source.columns;
  const known = (option: string, name: string) => {
    if (!columnNames.includes(name)) throw invalid(`${option} names column "${name}", which the file does not have (names are matched exactly, case included)`, { column: name });
  };
  const overrides = options.columnTypes ?? {};
  for (const [name, type] of Object.entries(overrides)) {
    known('columnTypes', name);
    if (type === 'label' && name !== roles.label) throw invalid(`columnTypes marks "${name}" as label, but the label column is "${roles.label ?? '(none)'}"`);
  }
  if (roles.label !== undefined && overrides[roles.label] !== undefined && overrides[roles.label] !== 'label') {
    throw invalid(`column "${roles.label}" is the label column; columnTypes cannot make it ${overrides[roles.label]}`);
  }
  for (const name of options.featureColumns ?? []) {
    known('featureColumns', name);
    if (name === roles.label || name === roles.split) throw invalid(`featureColumns cannot include the ${name === roles.label ? 'label' : 'split'} column "${name}"`);
  }
  const clash = columnNames.find((name) => name === 'split' && name !== roles.split);
  if (clash) throw invalid('the file has a column "split", which the import adds to every row; pass splitColumn: "split" to use it as the split, or rename it');

  const columns = resolveColumns(stats, { text: roles.text, label: roles.label }, overrides, source.unit).filter((column) => column.name !== roles.split);
  const featureColumns = options.featureColumns ? [...options.featureColumns] : columns.map((column) => column.name).filter((name) => name !== roles.text && name !== roles.label);

  // Splits.
  let splitMode: PreparedDataset['splitMode'];
  let assigned: ArrayLike<number>;
  if (roles.split !== undefined) {
    splitMode = 'column';
    assigned = pass.splitOf;
  } else {
    const split = fractions as { validation: number; test: number; seed: number };
    splitMode = roles.label !== undefined ? 'stratified' : 'random';
    const groups = roles.label !== undefined ? pass.labelOf : new Uint8Array(rows);
    assigned = stratifiedSplit(groups, split);
  }
  const splits: SplitCounts = { train: 0, validation: 0, test: 0 };
  const labelNames = [...pass.labels.keys()];
  const perLabel = labelNames.map((): [number, number, number] => [0, 0, 0]);
  for (let row = 0; row < rows; row += 1) {
    const code = assigned[row] as SplitCode;
    splits[SPLITS[code]] += 1;
    if (roles.label !== undefined) (perLabel[pass.labelOf[row] as number] as [number, number, number])[code] += 1;
  }
  const labelDistribution: LabelDistribution = { train: {}, validation: {}, test: {} };
  labelNames.forEach((label, index) => {
    const counts = perLabel[index] as [number, number, number];
    SPLITS.forEach((split, code) => {
      const count = counts[code as SplitCode];
      if (count > 0) labelDistribution[split][label] = count;
    });
  });

  // Output: one object per row, columns in order, then split.
  const types = new Map(columns.map((column) => [column.name, column.type]));
  const positions = columns.map((column) => columnNames.indexOf(column.name));
  const keys = columns.map((column) => `${JSON.stringify(column.name)}:`);
  const hash = createHash('sha256');
  const handle = await open(outFile, 'w');
  let sizeBytes = 0;
  try {
    const writer = new LineWriter(handle, hash);
    const lines = createInterface({ input: createReadStream(rawFile, { encoding: 'utf8' }), crlfDelay: Infinity });
    let row = 0;
    for await (const line of lines) {
      if ((row & 4095) === 0 && input.signal?.aborted) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the import was cancelled');
      const values = JSON.parse(line) as Scalar[];
      let text = '{';
      for (let k = 0; k < columns.length; k += 1) {
        const column = columns[k] as ColumnInfo;
        const value = normalise(values[positions[k] as number], types.get(column.name) as ColumnType);
        text += `${keys[k] as string}${JSON.stringify(value)},`;
      }
      text += `"split":"${SPLITS[assigned[row] as SplitCode]}"}`;
      await writer.write(text);
      row += 1;
    }
    await writer.flush();
    sizeBytes = writer.bytes;
  } finally {
    await handle.close();
  }

  const columnTypes: Record<string, ColumnType> = {};
  for (const column of columns) columnTypes[column.name] = column.type;
  const seed = fractions && splitMode !== 'column' ? fractions.seed : null;
  return {
    file: outFile,
    sha256: hash.digest('hex'),
    sizeBytes,
    format: kind,
    rows,
    columns,
    textColumn: roles.text ?? null,
    labelColumn: roles.label ?? null,
    featureColumns,
    splits,
    labelDistribution,
    splitMode,
    seed,
    options: {
      textColumn: roles.text ?? null,
      labelColumn: roles.label ?? null,
      featureColumns,
      splitColumn: roles.split ?? null,
      split: fractions && splitMode !== 'column' ? fractions : null,
      columnTypes,
    },
  };
}
