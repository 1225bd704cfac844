/**
 * Uploading a document over HTTP (scope `knowledge:write`, the caller's project):
 *
 *   POST /api/kb/:kb/documents?name=policy.pdf&metadata={"team":"payments"}
 *   Content-Type: application/pdf            (or the name's extension says the format)
 *   Idempotency-Key: …                       (optional: a retry returns the first task)
 *   body: the file, raw                      → 202 {task, replayed, statusTool: "kb_task", document}
 *
 * The body is streamed to a file in the plugin's data directory, at most `maxUploadBytes` (plugin
 * config; 413 as soon as the Content-Length or the bytes received pass it), then ingested exactly
 * like a file given to kb_ingest (a JSONL corpus keeps its lines' ids; any other file becomes the
 * document `name`). The file is deleted when the task ends.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, z, type PluginHttpContext, type PluginRoute } from 'anvil/plugin';
import { DOCUMENT_ID } from '../../knowledge/loaders/corpus.ts';
import { formatOf } from '../../knowledge/loaders/index.ts';
import type { DocumentFormat } from '../../knowledge/loaders/types.ts';
import type { KnowledgeService } from './service.ts';

const CONTENT_TYPES: Readonly<Record<string, DocumentFormat>> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'text/html': 'html',
  'text/markdown': 'markdown',
  'text/plain': 'text',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
};

const EXTENSION: Readonly<Record<DocumentFormat, string>> = { pdf: '.pdf', docx: '.docx', html: '.html', markdown: '.md', text: '.txt', jsonl: '.jsonl' };

const metadataSchema = z.record(z.string().min(1).max(100), z.union([z.string().max(1000), z.number(), z.boolean()])).refine((value) => Object.keys(value).length <= 50, 'at most 50 keys');
const query = z
  .object({
    name: z.string().regex(DOCUMENT_ID, 'a document name of 1 to 500 printable characters').describe('The document id (for a JSONL corpus, the name of the corpus)'),
    metadata: z.string().max(100_000).optional(),
  })
  .strict();

function invalid(message: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message);
}

class TooLarge extends Error {}

function tooLarge(c: PluginHttpContext, limit: number): Response {
  return c.json({ error: { code: ErrorCodes.QUOTA_EXCEEDED, message: `the upload is larger than ${limit} bytes, the most this server accepts per document (plugin config kb.maxUploadBytes)`, details: { limit } } }, 413);
}

function uploadRequest(c: PluginHttpContext): { name: string; format: DocumentFormat; metadata: Record<string, unknown> } {
  const parsed = query.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(issue?.code === 'unrecognized_keys' ? `unknown query parameter(s): ${issue.keys.join(', ')}` : `query parameter ${issue?.path.map(String).join('.') || 'name'}: ${issue?.message ?? 'invalid'}`);
  }
  const contentType = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const format = formatOf(parsed.data.name) ?? CONTENT_TYPES[contentType];
  if (!format) throw invalid(`say the format with the name's extension (.pdf .docx .html .md .txt .jsonl) or a Content-Type (${Object.keys(CONTENT_TYPES).join(', ')}); got ${JSON.stringify(contentType || 'none')}`);
  let metadata: Record<string, unknown> = {};
  if (parsed.data.metadata !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(parsed.data.metadata);
    } catch {
      throw invalid('query parameter metadata must be a JSON object such as {"team":"payments"}');
    }
    const checked = metadataSchema.safeParse(raw);
    if (!checked.success) throw invalid(`query parameter metadata: ${checked.error.issues[0]?.message ?? 'must be an object of strings, numbers and booleans'}`);
    metadata = checked.data;
  }
  return { name: parsed.data.name, format, metadata };
}

/** Streams `body` into `file`, failing with TooLarge past `limit` bytes. */
async function receive(body: ReadableStream<Uint8Array>, file: string, limit: number): Promise<number> {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > limit ? new TooLarge() : null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), counter, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  return size;
}

export function knowledgeRoutes(service: () => KnowledgeService, settings: { uploadDir: string; maxUploadBytes: () => number }): PluginRoute[] {
  return [
    {
      method: 'POST',
      path: '/api/kb/:kb/documents',
      scopes: ['knowledge:write'],
      handler: async (c) => {
        const svc = service();
        const limit = settings.maxUploadBytes();
        const declared = Number(c.req.header('content-length') ?? '');
        if (Number.isFinite(declared) && declared > limit) return tooLarge(c, limit);
        const { name, format, metadata } = uploadRequest(c);
        const principal = c.get('principal');
        // The knowledge base is looked up in the caller's project first: another project's is "not found", before any byte is stored.
        const kb = await svc.kb(principal.project, c.req.param('kb') ?? '');
        const body = c.req.raw.body;
        if (!body) throw invalid('the request has no body to ingest');
        await mkdir(settings.uploadDir, { recursive: true, mode: 0o700 });
        const file = path.join(settings.uploadDir, `${randomUUID()}${EXTENSION[format]}`);
        try {
          const size = await receive(body, file, limit);
          if (size === 0) throw invalid('the request body is empty');
        } catch (error) {
          await rm(file, { force: true });
          if (error instanceof TooLarge) return tooLarge(c, limit);
          throw error;
        }
        const idempotencyKey = c.req.header('idempotency-key');
        if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 200)) {
          await rm(file, { force: true });
          throw invalid('the Idempotency-Key header must be 1 to 200 characters');
        }
        const started = await svc
          .startIngest(principal.project, kb, { file, name }, metadata, idempotencyKey, async () => {
            await rm(file, { force: true });
          })
          .catch(async (error: unknown) => {
            await rm(file, { force: true });
            throw error;
          });
        // A replayed upload's own copy is not needed: the first one's task holds the document.
        if (started.replayed) await rm(file, { force: true });
        return c.json({ ...started, statusTool: 'kb_task', document: name }, 202);
      },
    },
  ];
}
