/**
 * The control plane as `anvil worker` reaches it: the worker API over HTTP with a bearer key
 * (scope `workers:join`). Error answers become AnvilErrors with the server's code, so the agent
 * reacts to CONFLICT (declared lost) the same way in-process and remote. Requests that fail at the
 * network level are retried a few times with backoff; they are all safe to repeat.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AnvilError, ErrorCodes, errorFromResponse, errorMessage } from '../contracts/errors.ts';
import type {
  ArtifactRecord,
  ClaimResponse,
  ControlPlane,
  FinishRequest,
  FinishResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterRequest,
  RegisterResponse,
  ReportRequest,
} from '../contracts/wire.ts';

const ATTEMPTS = 4;
const TIMEOUT_MS = 30_000;

export class HttpControlPlane implements ControlPlane {
  private readonly base: string;

  constructor(
    serverUrl: string,
    private readonly token: string,
  ) {
    this.base = serverUrl.replace(/\/+$/, '');
  }

  register(request: RegisterRequest): Promise<RegisterResponse> {
    return this.json('POST', '/api/workers/register', request);
  }

  heartbeat(workerId: string, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.json('POST', `/api/workers/${encodeURIComponent(workerId)}/heartbeat`, request);
  }

  claim(workerId: string, jobId: string): Promise<ClaimResponse> {
    return this.json('POST', `/api/workers/${encodeURIComponent(workerId)}/claim`, { jobId });
  }

  async report(workerId: string, jobId: string, request: ReportRequest): Promise<void> {
    await this.json('POST', `/api/workers/${encodeURIComponent(workerId)}/jobs/${jobId}/report`, request);
  }

  finish(workerId: string, jobId: string, request: FinishRequest): Promise<FinishResponse> {
    return this.json('POST', `/api/workers/${encodeURIComponent(workerId)}/jobs/${jobId}/finish`, request);
  }

  putArtifact(workerId: string, jobId: string, artifact: { name: string; sha256: string; mediaType: string }): Promise<ArtifactRecord> {
    return this.json('POST', `/api/workers/${encodeURIComponent(workerId)}/jobs/${jobId}/artifacts`, artifact);
  }

  async retire(workerId: string): Promise<void> {
    await this.json('POST', `/api/workers/${encodeURIComponent(workerId)}/retire`, {});
  }

  putBlob(sha256: string, file: string): Promise<{ sha256: string; size: number }> {
    return this.upload(`/api/blobs/${sha256}`, file);
  }

  getBlob(sha256: string, file: string): Promise<void> {
    return this.download(`/api/blobs/${sha256}`, file);
  }

  putCheckpoint(workerId: string, jobId: string, sha256: string, file: string): Promise<{ sha256: string; size: number }> {
    return this.upload(`/api/workers/${encodeURIComponent(workerId)}/jobs/${jobId}/checkpoints/${sha256}`, file);
  }

  getCheckpoint(workerId: string, jobId: string, sha256: string, file: string): Promise<void> {
    return this.download(`/api/workers/${encodeURIComponent(workerId)}/jobs/${jobId}/checkpoints/${sha256}`, file);
  }

  private async upload(urlPath: string, file: string): Promise<{ sha256: string; size: number }> {
    const { size } = await stat(file);
    return this.request(urlPath, () => ({
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    }), async (response) => (await response.json()) as { sha256: string; size: number });
  }

  private async download(urlPath: string, file: string): Promise<void> {
    await this.request(urlPath, () => ({ method: 'GET' }), async (response) => {
      if (!response.body) throw new AnvilError(ErrorCodes.UPSTREAM_FAILED, `${urlPath} came back without a body`);
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(file));
    });
  }

  private json<T>(method: 'POST' | 'GET', path: string, body: unknown): Promise<T> {
    return this.request(path, () => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), async (response) =>
      response.status === 204 ? (undefined as T) : ((await response.json()) as T),
    );
  }

  private async request<T>(path: string, init: () => RequestInit & { duplex?: 'half' }, read: (response: Response) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
      let response: Response;
      try {
        const options = init();
        response = await fetch(`${this.base}${path}`, {
          ...options,
          headers: { ...(options.headers as Record<string, string> | undefined), authorization: `Bearer ${this.token}` },
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (error) {
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
        continue;
      }
      if (response.ok) return read(response);
      const body: unknown = await response.json().catch(() => null);
      if (response.status >= 500 && response.status !== 501 && attempt < ATTEMPTS) {
        lastError = errorFromResponse(response.status, body, `${this.base}${path}`);
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
        continue;
      }
      throw errorFromResponse(response.status, body, `${this.base}${path}`);
    }
    throw new AnvilError(ErrorCodes.UPSTREAM_FAILED, `cannot reach the control plane at ${this.base}: ${errorMessage(lastError)}`, { cause: lastError });
  }
}
