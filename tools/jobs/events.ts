/**
 * `GET /events`: a Server-Sent Events stream of the caller's project's job changes, fed by the
 * control bus (so a change on any node reaches every stream).
 *
 *   ?job=<id>                 only this job (NOT_FOUND when it is not the caller's); the stream
 *                             starts with its state and ends (`event: end`) once it is terminal
 *   ?types=state,logs,metrics which events to send (default all three)
 *   ?afterSeq=<n>             with job: first send the log lines after n (simple resumption)
 *
 * Events: `state` (the job summary), `logs` ({jobId, lines, nextSeq, lastSeq}: the lines since the
 * last sent, read in budgeted pages), `metrics` ({jobId, points}: each metric's newest point).
 * A comment line every 15 s keeps proxies from closing an idle stream. Client aborts and server
 * shutdown (`closeStreams`) end the stream and drop its bus subscription.
 */
import { AnvilError, ErrorCodes, isAnvilError, type PluginHttpContext, type PluginRoute } from 'anvil/plugin';
import type { SSEStreamingApi } from 'hono/streaming';
import { serveSse, SseLoop } from '../../contracts/sse-stream.ts';
import type { ControlMessage } from '../../contracts/wire.ts';
import { wireValue } from './metrics-summary.ts';
import type { JobsRuntime } from './runtime.ts';
import type { LogPage } from './store.ts';
import { isTerminal } from './states.ts';
import { jobSummary } from './tools/view.ts';
import { latestMetrics } from './tools/wait.ts';
import { uuid } from './validate.ts';

export const EVENT_TYPES = ['state', 'logs', 'metrics'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const HEARTBEAT_MS = 15_000;
/** Budget for one `logs` event's message text. */
const LOG_EVENT_BYTES = 65_536;
/** A job first seen in a project-wide stream starts with (at most) its newest lines. */
const FIRST_TAIL_LINES = 100;

export interface EventsRouteOptions {
  heartbeatMs?: number;
}

/** The route plus `closeStreams()`, which ends every open stream (server shutdown). */
export type EventsRoute = PluginRoute & { closeStreams(): void };

interface Query {
  job: string | undefined;
  types: ReadonlySet<EventType>;
  afterSeq: number | undefined;
}

function invalid(message: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message);
}

export function parseEventsQuery(params: { job?: string | undefined; types?: string | undefined; afterSeq?: string | undefined }): Query {
  const job = params.job === undefined || params.job === '' ? undefined : uuid(params.job, 'job');
  let types: Set<EventType> = new Set(EVENT_TYPES);
  if (params.types !== undefined && params.types !== '') {
    const asked = params.types.split(',').map((item) => item.trim()).filter((item) => item !== '');
    const unknown = asked.filter((item) => !(EVENT_TYPES as readonly string[]).includes(item));
    if (unknown.length > 0) throw invalid(`types: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not an event type (${EVENT_TYPES.join(', ')})`);
    types = new Set(asked as EventType[]);
  }
  let afterSeq: number | undefined;
  if (params.afterSeq !== undefined && params.afterSeq !== '') {
    if (job === undefined) throw invalid('afterSeq needs job: resumption works for one job at a time');
    if (!/^\d{1,15}$/.test(params.afterSeq)) throw invalid('afterSeq must be a whole number ≥ 0');
    afterSeq = Number(params.afterSeq);
  }
  return { job, types, afterSeq };
}

/** One open stream: a serial worker over the bus messages of its project. */
class EventStream extends SseLoop {
  private readonly pending = new Map<string, Set<EventType>>();
  private readonly sentSeq = new Map<string, number>();

  constructor(
    private readonly jobs: JobsRuntime,
    private readonly project: string,
    private readonly query: Query,
    stream: SSEStreamingApi,
  ) {
    super(stream);
  }

  onMessage(message: ControlMessage): void {
    if (message.type !== 'job' || message.project !== this.project) return;
    if (this.query.job !== undefined && message.jobId !== this.query.job) return;
    const kind = message.kind === 'artifact' ? 'state' : message.kind;
    if (!this.query.types.has(kind)) return;
    let kinds = this.pending.get(message.jobId);
    if (!kinds) this.pending.set(message.jobId, (kinds = new Set()));
    kinds.add(kind);
    this.wakeUp();
  }

  async run(): Promise<void> {
    // Subscribed before the first read, so a change during it is queued, not missed.
    const unsubscribe = this.jobs.bus.subscribe((message) => this.onMessage(message));
    try {
      await this.follow();
    } finally {
      unsubscribe();
    }
  }

  private async follow(): Promise<void> {
    const single = this.query.job;
    if (single !== undefined) {
      const job = await this.jobs.service.store.get(this.project, single);
      this.sentSeq.set(single, this.query.afterSeq ?? job.logLines);
      if (this.query.types.has('state')) await this.send('state', jobSummary(job));
      if (this.query.afterSeq !== undefined && this.query.types.has('logs')) await this.sendLogs(single);
      if (isTerminal(job.state)) return this.end(single, job.state);
    }
    while (!this.isStopped) {
      if (this.pending.size === 0) {
        await this.sleep();
        continue;
      }
      const [jobId, kinds] = this.pending.entries().next().value as [string, Set<EventType>];
      this.pending.delete(jobId);
      // Logs first: a job's last lines come before the state that says it ended.
      if (kinds.has('logs')) await this.sendLogs(jobId);
      if (kinds.has('metrics')) await this.sendMetrics(jobId);
      if (kinds.has('state')) {
        const job = await this.jobs.service.store.get(this.project, jobId).catch(() => null);
        if (!job) continue;
        await this.send('state', jobSummary(job));
        if (single !== undefined && isTerminal(job.state)) {
          if (this.query.types.has('logs')) await this.sendLogs(jobId);
          return this.end(jobId, job.state);
        }
      }
    }
  }

  private async end(jobId: string, state: string): Promise<void> {
    await this.send('end', { jobId, state });
  }

  private async sendLogs(jobId: string): Promise<void> {
    const store = this.jobs.service.store;
    const known = this.sentSeq.get(jobId);
    if (known === undefined) {
      const page = await store.logs(this.project, jobId, { tail: FIRST_TAIL_LINES, maxBytes: LOG_EVENT_BYTES }).catch(() => null);
      if (!page) return;
      this.sentSeq.set(jobId, page.nextSeq);
      if (page.lines.length > 0) await this.send('logs', this.logsData(jobId, page));
      return;
    }
    let after: number = known;
    for (;;) {
      if (this.isStopped) return;
      const page: LogPage | null = await store.logs(this.project, jobId, { afterSeq: after, maxBytes: LOG_EVENT_BYTES }).catch(() => null);
      if (!page || page.lines.length === 0) return;
      after = page.nextSeq;
      this.sentSeq.set(jobId, after);
      await this.send('logs', this.logsData(jobId, page));
      if (!page.truncated) return;
    }
  }

  private logsData(jobId: string, page: { lines: Array<{ seq: number; at: Date; level: string; message: string; cut?: true }>; nextSeq: number; lastSeq: number }) {
    return {
      jobId,
      lines: page.lines.map((line) => ({ seq: line.seq, at: line.at.toISOString(), level: line.level, message: line.message, ...(line.cut ? { cut: true } : {}) })),
      nextSeq: page.nextSeq,
      lastSeq: page.lastSeq,
    };
  }

  private async sendMetrics(jobId: string): Promise<void> {
    // The bus message named the project; the job is the caller's.
    const points = await latestMetrics(this.jobs, jobId);
    await this.send('metrics', { jobId, points: points.map((point) => ({ name: point.name, step: point.step, value: wireValue(point.value), at: point.at.toISOString() })) });
  }
}

export function eventsRoute(ready: () => JobsRuntime, options: EventsRouteOptions = {}): EventsRoute {
  const open = new Set<EventStream>();
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  return {
    method: 'GET',
    path: '/events',
    scopes: ['jobs:read'],
    streaming: true,
    closeStreams() {
      for (const stream of open) stream.stop();
    },
    async handler(c: PluginHttpContext) {
      const query = parseEventsQuery({ job: c.req.query('job'), types: c.req.query('types'), afterSeq: c.req.query('afterSeq') });
      const jobs = ready();
      const { project } = c.get('principal');
      // Refused before the stream starts, so the caller gets a 404 instead of an empty stream.
      if (query.job !== undefined) await jobs.service.store.get(project, query.job);
      const log = jobs.log.child({ component: 'events', requestId: c.get('requestId') });
      return serveSse(c, {
        loop: (stream) => new EventStream(jobs, project, query, stream),
        open,
        heartbeatMs,
        failure(error) {
          if (isAnvilError(error)) return { event: 'error', data: { message: `${error.code}: ${error.message}` } };
          log.error({ err: error }, 'event stream failed');
          return { event: 'error', data: { message: `${ErrorCodes.INTERNAL}: internal error (request id ${c.get('requestId')})` } };
        },
        onError(error) {
          log.warn({ err: error.message }, 'event stream failed');
        },
      });
    },
  };
}
