/**
 * The shapes of the model registry: what a registration must carry and what a version record looks
 * like, as zod schemas (checked before any SQL runs) and the TypeScript types they give.
 */
import { AnvilError, ErrorCodes, z } from 'anvil/plugin';

export const MODEL_TASKS = ['text-classification', 'tabular-classification'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

/** Model names: they appear in resource URIs (`anvil://models/{name}/…`), so no slashes or spaces. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Alias names (`champion`, `challenger`, `prod-eu`, …). */
export const ALIAS_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
/** Not an alias: a version reference meaning the newest version. */
export const LATEST = 'latest';

export const LIMITS = {
  listDefault: 20,
  listMax: 100,
  historyDefault: 50,
  historyMax: 500,
  labelsMax: 100_000,
  artifactsMax: 1_000,
  /** metrics, signature and lineage, each as JSON. */
  jsonBytesMax: 1_048_576,
  reasonMax: 1_000,
  descriptionMax: 10_000,
} as const;

export const modelNameSchema = z
  .string()
  .regex(MODEL_NAME, 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .describe('Model name, e.g. "intent-classifier"');

export const aliasNameSchema = z
  .string()
  .regex(ALIAS_NAME, 'must match ^[a-z][a-z0-9_-]{0,39}$ (e.g. "champion")')
  .refine((alias) => alias !== LATEST, '"latest" is reserved: it always means the newest version')
  .describe('Alias name, e.g. "champion" or "challenger"');

const SHA256 = /^[0-9a-f]{64}$/;
const sha256Schema = z.string().regex(SHA256, 'must be 64 lower-case hex digits (SHA-256)');
const jsonObject = z.record(z.string(), z.unknown());

/** An input or output field of the model's signature; extra keys (shape, description…) are kept. */
export const fieldSpecSchema = z.object({ name: z.string().min(1).max(200), type: z.string().min(1).max(200) }).catchall(z.unknown());

export const signatureSchema = z
  .object({
    inputs: z.array(fieldSpecSchema).max(10_000),
    outputs: z.array(fieldSpecSchema).max(10_000),
    /** The classes the model can predict, in its output order. */
    labels: z.array(z.string().min(1).max(500)).min(1).max(LIMITS.labelsMax),
    /** Below this confidence (the top-class probability, or the `confidence` output when `operatingPoint.confidence` says so) the model abstains (out of scope). */
    threshold: z.number().min(0).max(1).optional(),
  })
  .catchall(z.unknown());

export const datasetRefSchema = z.object({
  name: z.string().min(1).max(200),
  version: z.union([z.string().min(1).max(200), z.number().int()]),
  sha256: sha256Schema,
});

export const lineageSchema = z
  .object({
    dataset: datasetRefSchema.nullable().default(null),
    /** The training job; registration is idempotent on (project, name, jobId). */
    jobId: z.string().min(1).max(200).nullable().default(null),
    codeVersion: z.string().min(1).max(200).nullable().default(null),
    params: jsonObject.default({}),
  })
  .catchall(z.unknown());

export const artifactSchema = z.object({
  name: z.string().min(1).max(500),
  sha256: sha256Schema,
  size: z.number().int().min(0),
  mediaType: z.string().min(1).max(200),
});

export const registerVersionSchema = z
  .object({
    name: modelNameSchema,
    /** Kept on the model when this registration creates it. */
    description: z.string().max(LIMITS.descriptionMax).optional(),
    task: z.enum(MODEL_TASKS),
    recipe: z.string().min(1).max(200),
    metrics: jsonObject.default({}),
    signature: signatureSchema,
    lineage: lineageSchema,
    artifacts: z.array(artifactSchema).max(LIMITS.artifactsMax).default([]),
    /** Principal id of who (or which job) registered it. */
    createdBy: z.string().min(1).max(200),
  })
  .strict();

export type RegisterVersionInput = z.input<typeof registerVersionSchema>;
export type ModelSignature = z.output<typeof signatureSchema>;
export type ModelLineage = z.output<typeof lineageSchema>;
export type ModelArtifact = z.output<typeof artifactSchema>;

/** One registered version of a model, as stored. */
export interface ModelVersion {
  project: string;
  name: string;
  version: number;
  task: ModelTask;
  recipe: string;
  metrics: Record<string, unknown>;
  signature: ModelSignature;
  lineage: ModelLineage;
  artifacts: ModelArtifact[];
  /** The model card (Markdown). */
  cardMd: string;
  /** ISO 8601. */
  createdAt: string;
  createdBy: string;
  status: 'ready';
}

/** The output schema of a version record in tool results (the card is returned beside it). */
export const versionRecordSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  task: z.enum(MODEL_TASKS),
  recipe: z.string(),
  status: z.enum(['ready']),
  metrics: jsonObject,
  signature: signatureSchema,
  lineage: lineageSchema,
  artifacts: z.array(artifactSchema),
  createdAt: z.string(),
  createdBy: z.string(),
});

export function invalid(message: string, details?: Record<string, unknown>): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message, details ? { details } : undefined);
}

/** Parses with a schema; a failure is INVALID_INPUT naming each field (`signature.labels: …`). */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const where = issue.path.map((part) => String(part)).join('.');
    return `${where ? `${what}.${where}` : what}: ${issue.message}`;
  });
  throw invalid(problems.join('; '), { fields: parsed.error.issues.map((issue) => issue.path.map((part) => String(part)).join('.')) });
}

/** A JSON text for a jsonb parameter, refused above LIMITS.jsonBytesMax. NUL becomes U+FFFD. */
export function jsonParam(value: unknown, what: string): string {
  let encoded: string | undefined;
  try {
    encoded = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' && item.includes('\u0000') ? item.replaceAll('\u0000', '\uFFFD') : item));
  } catch (error) {
    throw invalid(`${what} must be JSON-serializable: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (encoded === undefined) throw invalid(`${what} must be JSON-serializable`);
  const bytes = Buffer.byteLength(encoded);
  if (bytes > LIMITS.jsonBytesMax) throw invalid(`${what} is ${bytes} bytes as JSON; at most ${LIMITS.jsonBytesMax} are kept`);
  return encoded;
}
