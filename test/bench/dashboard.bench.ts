/**
 * `dashboard`: what the dashboard's tool path costs over MCP's, with thousands of jobs.
 *
 * One in-process Anvil (embedded PGlite, local worker off so every job stays queued) served over
 * real HTTP on loopback, one project with JOBS jobs. Measured, interleaved round by round:
 * - value: `POST /ui/api/call/jobs_list` with a session cookie and CSRF token (session lookup, key
 *   re-read, in-process tool call), walking every page of 25 by cursor;
 * - anchor: the same `jobs_list` pages through an MCP SDK client over `/mcp` with the same key.
 * Figures: p50 and p95 per page (ms), and the time to walk all pages (ms).
 */
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestHost } from 'anvil/testing';
import { createHttpApp } from '../../server/http/app.ts';
import { connectHttp } from '../support/anvil-process.ts';
import type { BenchContext, Figure } from './run.ts';

export const name = 'dashboard';
export const description = 'Dashboard tool calls (cookie session → ctx.tools) against MCP over HTTP, paging 2,000 jobs';

const JOBS = 2_000;
const ROUNDS = 5;
const PAGE = 25;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function run(context: BenchContext): Promise<Figure[]> {
  const host = await createTestHost({ plugins: [], config: { jobs: { localWorker: 'off' } } });
  let http: Server | undefined;
  try {
    const { app } = createHttpApp(host.server.runtime, () => host.server.plugins.catalog);
    http = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started as Server)) as Server;
    });
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const { key } = await host.server.runtime.keys.create({ project: 'bench', scopes: ['jobs:read', 'jobs:write'] });

    context.log(`submitting ${JOBS} jobs`);
    const seeder = await host.connect({ project: 'bench', scopes: ['*'] });
    for (let start = 0; start < JOBS; start += 50) {
      await Promise.all(Array.from({ length: Math.min(50, JOBS - start) }, () => seeder.callTool({ name: 'jobs_submit', arguments: { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 0 } } })));
    }

    const signIn = await fetch(`${base}/ui/api/session`, { method: 'POST', headers: { authorization: `Bearer ${key}`, origin: base } });
    const cookie = /anvil_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const { csrf } = (await signIn.json()) as { csrf: string };
    const mcp = await connectHttp('sdk1', new URL(`${base}/mcp`), { key });

    const dashboardPage = async (cursor: string | undefined) => {
      const response = await fetch(`${base}/ui/api/call/jobs_list`, {
        method: 'POST',
        headers: { cookie: `anvil_session=${cookie}`, 'x-anvil-csrf': csrf, origin: base, 'content-type': 'application/json' },
        body: JSON.stringify({ arguments: { limit: PAGE, ...(cursor ? { cursor } : {}) } }),
      });
      if (response.status !== 200) throw new Error(`dashboard jobs_list answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { result: { jobs: unknown[]; nextCursor: string | null } }).result;
    };
    const mcpPage = async (cursor: string | undefined) => {
      const outcome = await mcp.callTool('jobs_list', { limit: PAGE, ...(cursor ? { cursor } : {}) });
      if (outcome.isError) throw new Error(outcome.text);
      return outcome.structured as { jobs: unknown[]; nextCursor: string | null };
    };
    const walk = async (page: (cursor: string | undefined) => Promise<{ jobs: unknown[]; nextCursor: string | null }>, samples: number[]) => {
      const started = performance.now();
      let cursor: string | undefined;
      let seen = 0;
      do {
        const one = performance.now();
        const result = await page(cursor);
        samples.push(performance.now() - one);
        seen += result.jobs.length;
        cursor = result.nextCursor ?? undefined;
      } while (cursor);
      if (seen !== JOBS) throw new Error(`walked ${seen} jobs, expected ${JOBS}`);
      return performance.now() - started;
    };

    const dashboard: number[] = [];
    const anchor: number[] = [];
    const dashboardWalks: number[] = [];
    const anchorWalks: number[] = [];
    await walk(dashboardPage, []);
    await walk(mcpPage, []);
    for (let round = 0; round < ROUNDS; round += 1) {
      dashboardWalks.push(await walk(dashboardPage, dashboard));
      anchorWalks.push(await walk(mcpPage, anchor));
      context.log(`round ${round + 1}/${ROUNDS}: dashboard ${dashboardWalks.at(-1)?.toFixed(0)} ms, mcp ${anchorWalks.at(-1)?.toFixed(0)} ms for ${JOBS / PAGE} pages`);
    }
    await mcp.close();
    return [
      { metric: 'jobs_list_page_p50_ms', value: percentile(dashboard, 50), unit: 'ms', anchor: percentile(anchor, 50) },
      { metric: 'jobs_list_page_p95_ms', value: percentile(dashboard, 95), unit: 'ms', anchor: percentile(anchor, 95) },
      { metric: `jobs_list_walk_${JOBS}_ms`, value: percentile(dashboardWalks, 50), unit: 'ms', anchor: percentile(anchorWalks, 50) },
    ];
  } finally {
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    await host.close();
  }
}
