import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics for one server instance. The registry belongs to the runtime, not to the
 * module, so two servers in one process (tests, benchmarks) never share counters.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly toolCalls: Counter<'tool' | 'outcome'>;
  readonly toolDuration: Histogram<'tool'>;
  readonly httpRequests: Counter<'route' | 'status'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.toolCalls = new Counter({
      name: 'anvil_tool_calls_total',
      help: 'Tool calls by tool name and outcome (ok, error, denied).',
      labelNames: ['tool', 'outcome'],
      registers: [this.registry],
    });
    this.toolDuration = new Histogram({
      name: 'anvil_tool_call_duration_seconds',
      help: 'Tool call latency inside the server, from dispatch to result.',
      labelNames: ['tool'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.httpRequests = new Counter({
      name: 'anvil_http_requests_total',
      help: 'HTTP requests by route and status code.',
      labelNames: ['route', 'status'],
      registers: [this.registry],
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'anvil_' });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
