/**
 * The worker API: what `anvil worker` calls over HTTP (scope `workers:join`), and blob/artifact
 * transfer. Bodies are JSON except blob uploads, which stream the file with its claimed SHA-256 in
 * the path; the control plane hashes while writing and refuses a mismatch (422) keeping nothing.
 *
 *   POST /api/workers/register                      RegisterRequest → RegisterResponse
 *   POST /api/workers/:worker/heartbeat             HeartbeatRequest → HeartbeatResponse (409: lost)
 *   POST /api/workers/:worker/claim                 {jobId} → ClaimResponse
 *   POST /api/workers/:worker/jobs/:job/report      ReportRequest → 204
 *   POST /api/workers/:worker/jobs/:job/finish      FinishRequest → FinishResponse
 *   POST /api/workers/:worker/jobs/:job/artifacts   {name, sha256, mediaType} → ArtifactRecord
 *   POST /api/workers/:worker/retire                → 204
 *   PUT  /api/workers/:worker/jobs/:job/checkpoints/:sha256   body → {sha256, size} (the holder only)
 *   GET  /api/workers/:worker/jobs/:job/checkpoints/:sha256   → the bytes (the holder only)
 *   PUT  /api/blobs/:sha256                         body → {sha256, size}
 *   GET  /api/blobs/:sha256                         → the bytes
 *   GET  /api/jobs/:job/artifacts/:name             → the bytes (scope jobs:read, the caller's project)
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { AnvilError, ErrorCodes, loadSql, type PluginHttpContext, type PluginRoute } from 'anvil/plugin';
import * as z from 'zod';
import type { FinishRequest, HeartbeatRequest, RegisterRequest, ReportRequest } from '../../contracts/wire.ts';
import { parseWith } from './parse.ts';
import type { JobsRuntime } from './runtime.ts';

const artifactGet = loadSql(import.meta.url, './sql/artifact-get.sql');

const WORKER_SCOPES = ['workers:join'] as const;
const artifactRequest = z.object({ name: z.string().min(1).max(200), sha256: z.string(), mediaType: z.string().min(1).max(200).default('application/octet-stream') });
const claimRequest = z.object({ jobId: z.string().uuid() });

async function jsonBody(c: PluginHttpContext): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the request body must be JSON');
  }
}

function param(c: PluginHttpContext, name: string): string {
  const value = c.req.param(name);
  if (!value) throw new AnvilError(ErrorCodes.INVALID_INPUT, `missing path parameter ${name}`);
  return value;
}

function fileResponse(file: string, size: number, mediaType: string): Response {
  const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers: { 'content-type': mediaType, 'content-length': String(size) } });
}

export function workerApiRoutes(ready: () => JobsRuntime): PluginRoute[] {
  const worker = (
    method: PluginRoute['method'],
    path: string,
    handler: (c: PluginHttpContext, jobs: JobsRuntime) => Promise<Response>,
  ): PluginRoute => ({ method, path, scopes: WORKER_SCOPES, handler: (c) => handler(c, ready()) });

  return [
    // The service validates each body with the wire schemas (gpu-workers/wire.ts).
    worker('POST', '/api/workers/register', async (c, jobs) => c.json(await jobs.service.register((await jsonBody(c)) as RegisterRequest))),
    worker('POST', '/api/workers/:worker/heartbeat', async (c, jobs) => c.json(await jobs.service.heartbeat(param(c, 'worker'), (await jsonBody(c)) as HeartbeatRequest))),
    worker('POST', '/api/workers/:worker/claim', async (c, jobs) => {
      const { jobId } = parseWith(claimRequest, await jsonBody(c), 'body');
      return c.json(await jobs.service.claim(param(c, 'worker'), jobId));
    }),
    worker('POST', '/api/workers/:worker/jobs/:job/report', async (c, jobs) => {
      await jobs.service.report(param(c, 'worker'), param(c, 'job'), (await jsonBody(c)) as ReportRequest);
      return c.body(null, 204);
    }),
    worker('POST', '/api/workers/:worker/jobs/:job/finish', async (c, jobs) => c.json(await jobs.service.finish(param(c, 'worker'), param(c, 'job'), (await jsonBody(c)) as FinishRequest))),
    worker('POST', '/api/workers/:worker/jobs/:job/artifacts', async (c, jobs) => {
      const artifact = parseWith(artifactRequest, await jsonBody(c), 'body');
      return c.json(await jobs.service.putArtifact(param(c, 'worker'), param(c, 'job'), artifact));
    }),
    worker('PUT', '/api/workers/:worker/jobs/:job/checkpoints/:sha256', async (c, jobs) => {
      const body = c.req.raw.body;
      if (!body) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the request has no body to store');
      const jobId = param(c, 'job');
      await jobs.service.requireHolder(jobId, param(c, 'worker'));
      const stored = await jobs.blobs.putCheckpoint(jobId, param(c, 'sha256'), body);
      return c.json({ sha256: stored.sha256, size: stored.size });
    }),
    worker('GET', '/api/workers/:worker/jobs/:job/checkpoints/:sha256', async (c, jobs) => {
      const jobId = param(c, 'job');
      await jobs.service.requireHolder(jobId, param(c, 'worker'));
      const stored = await jobs.blobs.getCheckpoint(jobId, param(c, 'sha256'));
      return fileResponse(stored.file, stored.size, 'application/octet-stream');
    }),
    worker('POST', '/api/workers/:worker/retire', async (c, jobs) => {
      await jobs.service.retire(param(c, 'worker'));
      return c.body(null, 204);
    }),
    worker('PUT', '/api/blobs/:sha256', async (c, jobs) => {
      const body = c.req.raw.body;
      if (!body) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the request has no body to store');
      const stored = await jobs.blobs.put(param(c, 'sha256'), body);
      return c.json({ sha256: stored.sha256, size: stored.size });
    }),
    worker('GET', '/api/blobs/:sha256', async (c, jobs) => {
      const blob = await jobs.blobs.get(param(c, 'sha256'));
      return fileResponse(blob.file, blob.size, 'application/octet-stream');
    }),
    {
      method: 'GET',
      path: '/api/jobs/:job/artifacts/:name',
      scopes: ['jobs:read'],
      handler: async (c) => {
        const jobs = ready();
        const jobId = param(c, 'job');
        await jobs.service.store.get(c.get('principal').project, jobId); // NOT_FOUND for another project's job
        const row = (await jobs.sql.query<{ sha256: string; media_type: string }>(artifactGet, [jobId, param(c, 'name')])).rows[0];
        if (!row) throw new AnvilError(ErrorCodes.NOT_FOUND, `Job ${jobId} has no artifact ${c.req.param('name')}`);
        const blob = await jobs.blobs.get(row.sha256);
        return fileResponse(blob.file, blob.size, row.media_type);
      },
    },
  ];
}
