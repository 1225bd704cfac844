/**
 * MCP resources of a job: `anvil://jobs/{id}` (jobs_get as JSON), `anvil://jobs/{id}/logs` (the last
 * 200 lines within 64 KiB as text) and `anvil://jobs/{id}/metrics` (each metric's summary as JSON).
 * Subscribed clients are told when they change (notifications.ts).
 */
import { AnvilError, ErrorCodes, type PluginContext, type ResourceSpec } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';
import { metricSeries } from './metrics.ts';
import { jobView } from './view.ts';

export const RESOURCE_LOG_LINES = 200;
export const RESOURCE_LOG_BYTES = 65_536;

export const jobUri = (id: string) => `anvil://jobs/${id}`;
export const jobLogsUri = (id: string) => `anvil://jobs/${id}/logs`;
export const jobMetricsUri = (id: string) => `anvil://jobs/${id}/metrics`;

function idOf(variables: Record<string, string | string[]>): string {
  const id = variables.id;
  const value = Array.isArray(id) ? id[0] : id;
  if (value === undefined || value === '') throw new AnvilError(ErrorCodes.INVALID_INPUT, 'the resource URI names no job id');
  return decodeURIComponent(value);
}

function json(uri: URL, value: unknown) {
  return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value, null, 2) }] };
}

export function jobResources(jobs: () => JobsRuntime): ResourceSpec[] {
  return [
    {
      name: 'job',
      title: 'A job',
      description: 'A job of your project as JSON (what jobs_get answers); subscribe to hear of state changes.',
      uri: 'anvil://jobs/{id}',
      mimeType: 'application/json',
      scopes: ['jobs:read'],
      async read(uri, variables, { project }) {
        const runtime = jobs();
        return json(uri, await jobView(runtime, await runtime.service.store.get(project, idOf(variables))));
      },
    },
    {
      name: 'job-logs',
      title: 'A job’s log',
      description: `The newest ${RESOURCE_LOG_LINES} lines of a job’s log (within 64 KiB), one "[seq level] message" per line; jobs_logs pages through the rest.`,
      uri: 'anvil://jobs/{id}/logs',
      mimeType: 'text/plain',
      scopes: ['jobs:read'],
      async read(uri, variables, { project }) {
        const page = await jobs().service.store.logs(project, idOf(variables), { tail: RESOURCE_LOG_LINES, maxBytes: RESOURCE_LOG_BYTES });
        const text = page.lines.map((line) => `[${line.seq} ${line.level}] ${line.message}`).join('\n');
        return { contents: [{ uri: uri.href, mimeType: 'text/plain', text }] };
      },
    },
    {
      name: 'job-metrics',
      title: 'A job’s metrics',
      description: 'Each metric of a job summarized (count, first, last, min, max, last step, NaN/spike/plateau flags) as JSON.',
      uri: 'anvil://jobs/{id}/metrics',
      mimeType: 'application/json',
      scopes: ['jobs:read'],
      async read(uri, variables, { project }) {
        const id = idOf(variables);
        const series = await metricSeries(jobs(), project, id, undefined, 2);
        return json(uri, { id, metrics: series.map((metric) => ({ name: metric.name, summary: metric.summary })) });
      },
    },
  ];
}

export function registerJobResources(ctx: PluginContext, jobs: () => JobsRuntime): void {
  for (const spec of jobResources(jobs)) ctx.resource(spec);
}
