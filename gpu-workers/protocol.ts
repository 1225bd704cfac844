/**
 * The recipe protocol (see PROTOCOL.md): the runner writes one JSON `RecipeSpec` to the recipe's
 * stdin and closes it; the recipe writes JSON lines on stdout. This module holds the schemas and the
 * line parser; it does no I/O.
 */
import path from 'node:path';
import * as z from 'zod';
import { capUtf8 } from './lines.ts';
import { MAX_CHECKPOINT_STATE_BYTES, type RecipeSpec } from './recipe-wire.ts';

export { encodeMetricValue, formatRecipeMessage, MAX_CHECKPOINT_STATE_BYTES, type RecipeSpec } from './recipe-wire.ts';

/** A stdout line that is not protocol (a Python `print`) is logged, capped to this many bytes. */
export const MAX_LOG_BYTES = 4 * 1024;
/** A line longer than this is truncated by the runner and cannot be a protocol message. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** A checkpoint's `state` travels with the job record: keep it small. */


const jsonObject = z.record(z.string(), z.unknown());

const checkpointState = jsonObject.refine((state) => Buffer.byteLength(JSON.stringify(state), 'utf8') <= MAX_CHECKPOINT_STATE_BYTES, {
  message: `checkpoint state must serialise to at most ${MAX_CHECKPOINT_STATE_BYTES} bytes; put bulk data in the checkpoint file`,
});

/** A checkpoint as the runner hands it back to a resumed recipe. */
export const checkpointRefSchema = z.object({
  step: z.number().int().min(0),
  path: z.string().min(1),
  state: checkpointState.optional(),
});
export type CheckpointRef = z.infer<typeof checkpointRefSchema>;

/** What the runner writes to the recipe's stdin, as one JSON document, before closing it. */
export const recipeSpecSchema = z.object({
  jobId: z.string().min(1),
  /** The recipe's registered name, e.g. `diagnostics.counter`. */
  recipe: z.string().min(1),
  params: jsonObject,
  /** 1 on the first run; each retry or requeue after preemption adds one. */
  attempt: z.number().int().min(1),
  /** An absolute directory the recipe owns for this attempt; checkpoints and artifacts live in it. */
  workDir: z.string().min(1),
  resume: z.object({ checkpoint: checkpointRefSchema }).nullable(),
});
// The recipe side checks specs without zod (recipe-wire.ts); its type must stay the schema's.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const specTypesAgree: Same<z.infer<typeof recipeSpecSchema>, RecipeSpec> = true;
void specTypesAgree;

export const RECIPE_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type RecipeLogLevel = (typeof RECIPE_LOG_LEVELS)[number];
/**
 * `stdout`: a non-protocol stdout line; `stderr`: a stderr line; `runner`: something the runner
 * itself noted (a protocol violation, a signal it sent).
 */
export type LogLevel = RecipeLogLevel | 'stdout' | 'stderr' | 'runner';

/** JSON cannot carry NaN or ±Infinity; metric values may be these strings instead. */
const NON_FINITE = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY } as const;
const metricValue = z
  .union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])
  .transform((value) => (typeof value === 'number' ? value : NON_FINITE[value]));

const logMessage = z.object({
  type: z.literal('log'),
  level: z.enum(RECIPE_LOG_LEVELS),
  message: z.string(),
});
const metricMessage = z.object({
  type: z.literal('metric'),
  step: z.number().int().min(0),
  name: z.string().min(1).max(200),
  value: metricValue,
});
const checkpointMessage = z.object({
  type: z.literal('checkpoint'),
  step: z.number().int().min(0),
  path: z.string().min(1),
  state: checkpointState.optional(),
});
const artifactMessage = z.object({
  type: z.literal('artifact'),
  name: z.string().min(1).max(200),
  path: z.string().min(1),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits')
    .transform((digest) => digest.toLowerCase()),
  size: z.number().int().min(0).optional(),
  mediaType: z.string().min(1).max(200).optional(),
});
const resultMessage = z.object({ type: z.literal('result'), value: jsonObject });
const errorMessage = z.object({ type: z.literal('error'), message: z.string(), recoverable: z.boolean() });

/** The messages a recipe may write, by `type`. Unknown keys are ignored (forward compatibility). */
export const recipeMessageSchemas = {
  log: logMessage,
  metric: metricMessage,
  checkpoint: checkpointMessage,
  artifact: artifactMessage,
  result: resultMessage,
  error: errorMessage,
} as const;
export type RecipeMessageType = keyof typeof recipeMessageSchemas;
/** A message as a recipe writes it (metric values may be "NaN"/"Infinity"/"-Infinity"). */
export type RecipeMessage = { [K in RecipeMessageType]: z.input<(typeof recipeMessageSchemas)[K]> }[RecipeMessageType];

export interface LogEvent {
  readonly type: 'log';
  readonly level: LogLevel;
  /** At most MAX_LOG_BYTES bytes for stdout/stderr lines and recipe log messages. */
  readonly message: string;
  /** Present (true) when the message was cut. */
  readonly truncated?: true;
}
export interface MetricEvent {
  readonly type: 'metric';
  readonly step: number;
  readonly name: string;
  /** May be NaN or ±Infinity; see `encodeMetricValue` before storing as JSON. */
  readonly value: number;
}
export interface CheckpointEvent {
  readonly type: 'checkpoint';
  readonly step: number;
  /** Absolute, inside the work dir. */
  readonly path: string;
  readonly state?: Record<string, unknown>;
}
export interface ArtifactEvent {
  readonly type: 'artifact';
  readonly name: string;
  /** Absolute, inside the work dir. */
  readonly path: string;
  /** Lower-case hex; what the recipe claims. The upload verifies it. */
  readonly sha256: string;
  readonly size?: number;
  readonly mediaType?: string;
}
export interface ResultEvent {
  readonly type: 'result';
  readonly value: Record<string, unknown>;
}
export interface ErrorEvent {
  readonly type: 'error';
  readonly message: string;
  /** false: retrying will not help (bad params, bad data); the job must not be retried. */
  readonly recoverable: boolean;
}
/** A JSON line of a known type that broke its schema (or a too-long line that looked like JSON). */
export interface InvalidEvent {
  readonly type: 'invalid';
  /** The `type` the line claimed, when it had one. */
  readonly messageType?: string;
  /** What is wrong, from the schema. */
  readonly message: string;
  /** The offending line, capped at MAX_LOG_BYTES. */
  readonly line: string;
}
export type RecipeEvent = LogEvent | MetricEvent | CheckpointEvent | ArtifactEvent | ResultEvent | ErrorEvent | InvalidEvent;

export interface ParseOptions {
  /** When given, checkpoint and artifact paths are resolved against it and must stay inside it. */
  readonly workDir?: string;
  /** Set when the runner cut the line at MAX_LINE_BYTES. */
  readonly truncated?: boolean;
  /** The line's full length in bytes, for the message about a truncated line. */
  readonly bytes?: number;
}

/**
 * Turns one stdout line into an event; null for a blank line. Never throws: a line that is not JSON,
 * not an object, or of an unknown `type` is a `stdout` log event (recipes may print freely); a line
 * of a known type that breaks its schema is an `invalid` event.
 */
export function parseRecipeLine(line: string, options: ParseOptions = {}): RecipeEvent | null {
  const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
  const trimmed = raw.trim();
  if (trimmed === '') return null;

  if (options.truncated) {
    if (trimmed.startsWith('{')) {
      const size = options.bytes === undefined ? '' : ` (${options.bytes} bytes)`;
      return invalid(raw, `line${size} exceeds the ${MAX_LINE_BYTES}-byte limit and was cut; write large data to a file and report it as an artifact`);
    }
    return stdoutLog(raw, true);
  }
  if (!trimmed.startsWith('{')) return stdoutLog(raw);

  const parsed = parseJson(trimmed);
  if (parsed === undefined || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return stdoutLog(raw);
  const type = (parsed as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(recipeMessageSchemas, type)) return stdoutLog(raw);

  const result = recipeMessageSchemas[type as RecipeMessageType].safeParse(parsed);
  if (!result.success) return invalid(raw, describeIssues(result.error), type);
  const message = result.data;
  switch (message.type) {
    case 'log': {
      const capped = capUtf8(message.message, MAX_LOG_BYTES);
      return { type: 'log', level: message.level, message: capped.text, ...(capped.truncated ? { truncated: true as const } : {}) };
    }
    case 'metric':
      return { type: 'metric', step: message.step, name: message.name, value: message.value };
    case 'checkpoint': {
      const where = insideWorkDir(message.path, options.workDir);
      if (typeof where !== 'string') return invalid(raw, `checkpoint path: ${where.error}`, type);
      return { type: 'checkpoint', step: message.step, path: where, ...(message.state === undefined ? {} : { state: message.state }) };
    }
    case 'artifact': {
      const where = insideWorkDir(message.path, options.workDir);
      if (typeof where !== 'string') return invalid(raw, `artifact path: ${where.error}`, type);
      return {
        type: 'artifact',
        name: message.name,
        path: where,
        sha256: message.sha256,
        ...(message.size === undefined ? {} : { size: message.size }),
        ...(message.mediaType === undefined ? {} : { mediaType: message.mediaType }),
      };
    }
    case 'result':
      return { type: 'result', value: message.value };
    case 'error':
      return { type: 'error', message: capUtf8(message.message, MAX_LOG_BYTES).text, recoverable: message.recoverable };
  }
}

/** A metric value as JSON can carry it: the number, or "NaN"/"Infinity"/"-Infinity". */
function stdoutLog(raw: string, cut = false): LogEvent {
  const capped = capUtf8(raw, MAX_LOG_BYTES);
  return { type: 'log', level: 'stdout', message: capped.text, ...(cut || capped.truncated ? { truncated: true as const } : {}) };
}

function invalid(raw: string, message: string, messageType?: string): InvalidEvent {
  return { type: 'invalid', ...(messageType === undefined ? {} : { messageType }), message, line: capUtf8(raw, MAX_LOG_BYTES).text };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}

function insideWorkDir(candidate: string, workDir: string | undefined): string | { error: string } {
  if (candidate.includes('\0')) return { error: 'contains a NUL byte' };
  if (workDir === undefined) return candidate;
  const root = path.resolve(workDir);
  const absolute = path.resolve(root, candidate);
  const relative = path.relative(root, absolute);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    return { error: `${JSON.stringify(candidate)} is not a file inside the work dir ${root}` };
  }
  return absolute;
}

/**
 * JSON.parse, and on failure one more try that accepts the bare NaN / Infinity / -Infinity tokens
 * Python's `json.dumps` writes by default (turned into the strings the metric schema accepts).
 */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (!/NaN|Infinity/.test(text)) return undefined;
    try {
      return JSON.parse(quoteNonFiniteTokens(text)) as unknown;
    } catch {
      return undefined;
    }
  }
}

function quoteNonFiniteTokens(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (char === '"') {
        inString = false;
      }
      continue;
    }
    if (char === '"') {
      inString = true;
      out += char;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((candidate) => text.startsWith(candidate, i));
    if (token !== undefined && !/[A-Za-z0-9_]/.test(text[i + token.length] ?? '')) {
      out += `"${token}"`;
      i += token.length - 1;
      continue;
    }
    out += char;
  }
  return out;
}
