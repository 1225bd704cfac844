/**
 * `GET /ui/api/events?job=<id>`: a job's log lines and state changes as Server-Sent Events, for the
 * page, which holds only the session cookie (the bearer-authenticated `/events` is out of its reach).
 *
 * Everything is read as the session's principal through `ctx.tools` (`jobs_get`, `jobs_logs`), so the
 * stream shows exactly what those tools would; it wakes on the jobs plugin's `jobs.changed` host
 * events for this project and job (no polling), and re-reads the key every `streamRecheckSeconds`
 * (config), woken or not, so a revoked key ends the stream. Events:
 *
 *   state    the job summary (jobs_get)            logs   {lines, nextSeq, lastSeq} (jobs_logs)
 *   metrics  {jobId}: new metric points to fetch   end    {jobId, state}: the job is over; stream ends
 *   failed   {code, message}: the stream stopped (e.g. the key was revoked); not `error`, which
 *            EventSource keeps for its own connection errors
 */
import { AnvilError, ErrorCodes, isAnvilError, type AnvilEvent, type CallerPrincipal, type PluginHttpContext, type PluginRoute, type ToolInvoker, type ToolResult } from 'anvil/plugin';
import type { SSEStreamingApi } from 'hono/streaming';
import { serveSse, SseLoop } from '../../contracts/sse-stream.ts';
import { signedIn } from './guard.ts';
import type { SessionStore } from './sessions.ts';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const FIRST_TAIL_LINES = 200;
const LOG_PAGE_BYTES = 65_536;
/** Log pages read per wake-up before yielding to other events (a huge backlog arrives in turns). */
const LOG_PAGES_PER_WAKE = 8;
const HEARTBEAT_MS = 15_000;

type Kind = 'state' | 'logs' | 'metrics';

function refusal(result: ToolResult): AnvilError {
  const code = (result._meta?.['dev.anvil/error'] as { code?: string } | undefined)?.code ?? ErrorCodes.INTERNAL;
  const text = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n').replace(/^ANVIL_E_[A-Z_]+:\s*/, '');
  return new AnvilError(code as typeof ErrorCodes.INTERNAL, text);
}

/** One open stream: a serial loop woken by `jobs.changed` events of its project and job. */
class JobStream extends SseLoop {
  private readonly pending = new Set<Kind>();
  private afterSeq = 0;
  private refreshedAt = Date.now();

  constructor(
    readonly project: string,
    readonly jobId: string,
    private principal: CallerPrincipal,
    private readonly tools: ToolInvoker,
    stream: SSEStreamingApi,
    private readonly requestId: string,
    private readonly recheckMs: number,
  ) {
    super(stream);
  }

  notify(kind: string): void {
    if (kind !== 'state' && kind !== 'logs' && kind !== 'metrics') return;
    this.pending.add(kind);
    this.wakeUp();
  }

  async run(): Promise<void> {
    let job = await this.read('jobs_get', { id: this.jobId });
    await this.send('state', job);
    await this.sendLogs(true);
    while (!this.isStopped && !TERMINAL.has(String(job['state']))) {
      if (Date.now() - this.refreshedAt >= this.recheckMs) {
        // A revoked key throws UNAUTHENTICATED here: the stream ends with `failed`.
        this.principal = await this.tools.refresh(this.principal);
        this.refreshedAt = Date.now();
      }
      if (this.pending.size === 0) {
        await this.sleep(this.recheckMs - (Date.now() - this.refreshedAt));
        continue;
      }
      const kinds = new Set(this.pending);
      this.pending.clear();
      // Logs first: a job's last lines come before the state that says it ended.
      if (kinds.has('logs') || kinds.has('state')) await this.sendLogs(false);
      if (kinds.has('metrics')) await this.send('metrics', { jobId: this.jobId });
      if (kinds.has('state')) {
        job = await this.read('jobs_get', { id: this.jobId });
        await this.send('state', job);
      }
    }
    if (!this.isStopped) await this.send('end', { jobId: this.jobId, state: job['state'] });
  }

  private async read(tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await this.tools.call(tool, args, { principal: this.principal, requestId: this.requestId });
    if (result.isError) throw refusal(result);
    return (result.structuredContent ?? {}) as Record<string, unknown>;
  }

  private async sendLogs(first: boolean): Promise<void> {
    for (let turn = 0; turn < LOG_PAGES_PER_WAKE && !this.isStopped; turn += 1) {
      const args = first && turn === 0 ? { id: this.jobId, tail: FIRST_TAIL_LINES, maxBytes: LOG_PAGE_BYTES } : { id: this.jobId, afterSeq: this.afterSeq, maxBytes: LOG_PAGE_BYTES };
      const page = await this.read('jobs_logs', args);
      const lines = Array.isArray(page['lines']) ? page['lines'] : [];
      const nextSeq = Number(page['nextSeq'] ?? this.afterSeq);
      this.afterSeq = nextSeq;
      if (lines.length > 0) await this.send('logs', { jobId: this.jobId, lines, nextSeq, lastSeq: page['lastSeq'] });
      // A tail read is complete by definition; a forward read goes on while lines remain.
      if ((first && turn === 0) || lines.length === 0 || Number(page['lastSeq'] ?? 0) <= nextSeq) return;
    }
    // Lines remain after this turn's budget: read on at the next wake-up, which this schedules.
    if (!this.isStopped) this.pending.add('logs');
  }
}

export interface LiveStreams {
  route: PluginRoute;
  /** The `jobs.changed` listener: wakes the streams of that project and job. */
  onJobChanged(event: AnvilEvent): void;
}

export function liveJobStreams(
  sessions: SessionStore,
  tools: ToolInvoker,
  log: { warn(details: Record<string, unknown>, message: string): void },
  recheckMs: number,
): LiveStreams {
  const open = new Set<JobStream>();
  return {
    onJobChanged(event) {
      const jobId = event.payload['jobId'];
      const kind = event.payload['kind'];
      if (typeof jobId !== 'string' || typeof kind !== 'string' || event.project === undefined) return;
      for (const stream of open) if (stream.project === event.project && stream.jobId === jobId) stream.notify(kind);
    },
    route: {
      method: 'GET',
      path: '/ui/api/events',
      public: true,
      streaming: true,
      closeStreams() {
        for (const stream of open) stream.stop();
      },
      async handler(c: PluginHttpContext) {
        c.header('cache-control', 'no-store');
        const { principal } = await signedIn(c, sessions, tools, { write: false });
        const jobId = c.req.query('job') ?? '';
        if (!JOB_ID.test(jobId)) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'job: expected a job id (a UUID)');
        // Refused before the stream starts: another project's job is a 404, exactly like jobs_get.
        const first = await tools.call('jobs_get', { id: jobId }, { principal, requestId: c.get('requestId') });
        if (first.isError) throw refusal(first);
        const requestId = c.get('requestId');
        return serveSse(c, {
          loop: (stream) => new JobStream(principal.project, jobId, principal, tools, stream, requestId, recheckMs),
          open,
          heartbeatMs: HEARTBEAT_MS,
          failure(error) {
            if (isAnvilError(error)) return { event: 'failed', data: { code: error.code, message: error.message } };
            log.warn({ err: error instanceof Error ? error.message : String(error), requestId }, 'dashboard job stream failed');
            return { event: 'failed', data: { code: ErrorCodes.INTERNAL, message: `internal error (request id ${requestId})` } };
          },
          onError(error) {
            log.warn({ err: error.message }, 'dashboard job stream failed');
          },
        });
      },
    },
  };
}
