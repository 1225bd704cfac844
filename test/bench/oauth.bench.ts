/**
 * `oauth`: what an OAuth access token costs per MCP request against an API key. One in-process
 * Anvil (embedded PGlite) configured as a resource server of a local `oidc-provider`; the same
 * `anvil_whoami` tools/call is sent through the HTTP app (`app.request`, no socket) with a JWT
 * (RS256, verified against the cached JWKS) and, as the anchor, with an API key (verified once, then
 * served from the key cache). Alternating slices, sequential calls.
 *
 * Knobs: BENCH_OAUTH_CALLS (measured calls per slice, default 500), BENCH_OAUTH_ROUNDS (slices per
 * side, default 4).
 */
import { createTestHost } from 'anvil/testing';
import { createHttpApp } from '../../server/http/app.ts';
import { signingKey, startAuthServer } from '../support/oidc.ts';
import type { BenchContext, Figure } from './run.ts';

export const name = 'oauth';
export const description = 'anvil_whoami over the HTTP app with an OAuth JWT vs an API key (p50, p99, calls/s)';

function envInt(key: string, fallback: number): number {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${key}: expected a positive integer, got "${raw}"`);
  return value;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function run(context: BenchContext): Promise<Figure[]> {
  const calls = envInt('BENCH_OAUTH_CALLS', 500);
  const rounds = envInt('BENCH_OAUTH_ROUNDS', 4);
  const client = { id: 'bench', secret: 'bench-secret-0123456789', scope: 'anvil:read', project: 'bench' };
  const authServer = await startAuthServer({ clients: [client], key: await signingKey() });
  const resource = 'http://127.0.0.1:7420/mcp';
  const host = await createTestHost({ plugins: [], config: { auth: { oauth: { resource, issuer: authServer.issuer } } } });
  try {
    const { app } = createHttpApp(host.server.runtime, () => host.server.plugins.catalog);
    const jwt = await authServer.token(client, resource);
    const key = (await host.server.runtime.keys.create({ project: 'bench', scopes: ['anvil:read'] })).key;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'anvil_whoami', arguments: {} } });
    const once = async (token: string): Promise<number> => {
      const started = performance.now();
      const response = await app.request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: { host: '127.0.0.1', authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body,
      });
      await response.text();
      if (response.status !== 200) throw new Error(`whoami answered ${response.status}`);
      return performance.now() - started;
    };
    const samples = { jwt: [] as number[], key: [] as number[] };
    for (let i = 0; i < 100; i++) {
      await once(jwt);
      await once(key);
    }
    let elapsed = { jwt: 0, key: 0 };
    for (let round = 0; round < rounds; round++) {
      const order: Array<'jwt' | 'key'> = round % 2 === 0 ? ['jwt', 'key'] : ['key', 'jwt'];
      for (const side of order) {
        const token = side === 'jwt' ? jwt : key;
        const started = performance.now();
        for (let i = 0; i < calls; i++) samples[side].push(await once(token));
        elapsed = { ...elapsed, [side]: elapsed[side] + (performance.now() - started) };
      }
      context.log(`round ${round + 1}/${rounds} done`);
    }
    const jwtSorted = [...samples.jwt].sort((a, b) => a - b);
    const keySorted = [...samples.key].sort((a, b) => a - b);
    return [
      { metric: 'whoami_jwt_p50_ms', value: percentile(jwtSorted, 50), unit: 'ms', anchor: percentile(keySorted, 50) },
      { metric: 'whoami_jwt_p99_ms', value: percentile(jwtSorted, 99), unit: 'ms', anchor: percentile(keySorted, 99) },
      { metric: 'whoami_jwt_calls_per_s', value: (samples.jwt.length / elapsed.jwt) * 1000, unit: 'calls/s', anchor: (samples.key.length / elapsed.key) * 1000 },
    ];
  } finally {
    await host.close();
    await authServer.close();
  }
}
