/**
 * The dashboard's sessions and its tool-call API without a browser, in-process (host.request), on
 * embedded PGlite and on Postgres when DATABASE_URL is set: sign-in stores only a hash and the key
 * id, every call re-reads the key (revoked → signed out, session row gone), CSRF and Origin guard
 * writes, expired sessions are refused and swept, another project's ids are not found.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestHost, type TestHost } from 'anvil/testing';
import { requireService, skipUnless } from '../support/backends.ts';
import { signingKey, startAuthServer } from '../support/oidc.ts';
import { createTempDatabase } from '../support/temp-db.ts';

const ORIGIN = 'http://127.0.0.1';
const SCOPES = ['jobs:read', 'jobs:write'];

interface Opened {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

function sessionsSuite(backend: string, skip: string | undefined, open: () => Promise<Opened>): void {
  describe(`dashboard sessions on ${backend}`, { skip }, () => {
    let host: TestHost;
    let opened: Opened | undefined;

    before(async () => {
      opened = await open();
      host = await createTestHost({ plugins: [], env: opened.env, config: { jobs: { localWorker: 'off' }, dashboard: { streamRecheckSeconds: 1 } } });
    });
    after(async () => {
      await host?.close();
      await opened?.cleanup();
    });

    const signIn = async (project = 'alpha') => {
      const response = await host.request('/ui/api/session', { method: 'POST', as: { project, scopes: SCOPES }, headers: { origin: ORIGIN } });
      assert.equal(response.status, 200, await response.clone().text());
      const setCookie = response.headers.get('set-cookie') ?? '';
      const body = (await response.json()) as { csrf: string; principal: string };
      return { setCookie, cookie: /anvil_session=([^;]+)/.exec(setCookie)?.[0] ?? '', csrf: body.csrf, keyId: body.principal.replace(/^key:/, '') };
    };
    const callTool = (session: { cookie: string; csrf?: string }, tool: string, args: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      host.request(`/ui/api/call/${tool}`, {
        method: 'POST',
        as: null,
        headers: { cookie: session.cookie, origin: ORIGIN, 'content-type': 'application/json', ...(session.csrf ? { 'x-anvil-csrf': session.csrf } : {}), ...headers },
        body: JSON.stringify({ arguments: args }),
      });
    const sql = (text: string, values: unknown[] = []) => host.server.runtime.services.storage.query<Record<string, unknown>>(text, values);

    it('signs in: HttpOnly SameSite=Strict cookie; the table holds a hash and the key id, never the key', async () => {
      const session = await signIn();
      assert.match(session.setCookie, /HttpOnly/i);
      assert.match(session.setCookie, /SameSite=Strict/i);
      assert.match(session.setCookie, /Path=\/ui/);
      const id = session.cookie.split('=')[1] as string;
      const { rows } = await sql('select id_hash, key_id, project from plugin_dashboard.sessions where key_id = $1', [session.keyId]);
      assert.equal(rows.length, 1);
      assert.notEqual(rows[0]?.id_hash, id);
      assert.match(String(rows[0]?.id_hash), /^[0-9a-f]{64}$/);
      assert.equal(rows[0]?.project, 'alpha');
      const who = (await (await host.request('/ui/api/session', { as: null, headers: { cookie: session.cookie } })).json()) as { project: string; tools: string[]; csrf: string };
      assert.equal(who.project, 'alpha');
      assert.equal(who.csrf, session.csrf);
      assert.ok(who.tools.includes('jobs_list') && !who.tools.includes('payments_list'), who.tools.join(','));
    });

    it('a call runs as the key; without CSRF, from another origin, or cross-site it is refused', async () => {
      const session = await signIn();
      const listed = await callTool(session, 'jobs_list', { limit: 5 });
      assert.equal(listed.status, 200);
      assert.deepEqual(((await listed.json()) as { result: { jobs: unknown[] } }).result.jobs, []);
      assert.equal((await callTool({ cookie: session.cookie }, 'jobs_list')).status, 403);
      assert.equal((await callTool(session, 'jobs_list', {}, { origin: 'http://evil.example' })).status, 403);
      assert.equal((await callTool(session, 'jobs_list', {}, { 'sec-fetch-site': 'cross-site' })).status, 403);
      const noOrigin = await host.request('/ui/api/call/jobs_list', { method: 'POST', as: null, headers: { cookie: session.cookie, 'x-anvil-csrf': session.csrf }, body: '{}' });
      assert.equal(noOrigin.status, 403);
      assert.equal((await callTool(session, 'payments_list')).status, 403, 'scopes apply');
    });

    it('another project’s job is not found', async () => {
      const beta = await signIn('beta');
      const submitted = await callTool(beta, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 0 } });
      assert.equal(submitted.status, 200, await submitted.clone().text());
      const id = ((await submitted.json()) as { result: { id: string } }).result.id;
      const alpha = await signIn('alpha');
      const foreign = await callTool(alpha, 'jobs_get', { id });
      assert.equal(foreign.status, 404);
      assert.equal(((await foreign.json()) as { error: { code: string } }).error.code, 'ANVIL_E_NOT_FOUND');
      assert.equal((await callTool(beta, 'jobs_get', { id })).status, 200);
    });

    it('streams a job over GET /ui/api/events by the session cookie: no cookie 401, another project’s job 404, state until it ends', async () => {
      const alpha = await signIn('alpha');
      const beta = await signIn('beta');
      const submit = async (session: { cookie: string; csrf: string }) => {
        const submitted = await callTool(session, 'jobs_submit', { recipe: 'diagnostics.counter', params: { steps: 1, stepMs: 0 } });
        assert.equal(submitted.status, 200, await submitted.clone().text());
        return ((await submitted.json()) as { result: { id: string } }).result.id;
      };
      const own = await submit(alpha);
      const foreign = await submit(beta);
      const events = (id: string, cookie?: string) => host.request(`/ui/api/events?job=${id}`, { as: null, headers: cookie ? { cookie } : {} });
      assert.equal((await events(own)).status, 401, 'no cookie');
      assert.equal((await events(own, `anvil_session=${'x'.repeat(43)}`)).status, 401, 'forged cookie');
      const refused = await events(foreign, alpha.cookie);
      assert.equal(refused.status, 404, 'another project’s job looks like no job');
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'ANVIL_E_NOT_FOUND');
      assert.equal((await events('not-a-uuid', alpha.cookie)).status, 400);

      const stream = await events(own, alpha.cookie);
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = (stream.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const until = async (pattern: RegExp) => {
        const deadline = Date.now() + 15_000;
        while (!pattern.test(text)) {
          assert.ok(Date.now() < deadline, `stream never showed ${pattern}: ${text}`);
          const { value, done } = await reader.read();
          assert.ok(!done, `stream ended before ${pattern}: ${text}`);
          text += value;
        }
      };
      await until(/event: state\ndata: \{[^\n]*"state":"queued"/);
      // No worker runs here: the job changes only by this cancel, which the stream hears through the
      // jobs plugin's `jobs.changed` event, not by polling.
      assert.equal((await callTool(alpha, 'jobs_cancel', { id: own, reason: 'stream test' })).status, 200);
      await until(/event: end\ndata: \{[^\n]*"state":"cancelled"/);
      assert.match(text, /event: state\ndata: \{[^\n]*"state":"cancelled"/);
      assert.ok(!text.includes(foreign), 'nothing of the other project');
      await reader.cancel();

      // A revoked key ends an open stream (re-read every streamRecheckSeconds, here 1), quiet job or not.
      // Its own key: signIn's keys are shared with the other tests.
      const ownKey = (await host.server.runtime.keys.create({ project: 'alpha', scopes: SCOPES, name: 'doomed' })).key;
      const signedIn = await host.request('/ui/api/session', { method: 'POST', as: null, headers: { authorization: `Bearer ${ownKey}`, origin: ORIGIN } });
      assert.equal(signedIn.status, 200, await signedIn.clone().text());
      const doomed = {
        cookie: /anvil_session=([^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[0] ?? '',
        ...((await signedIn.json()) as { csrf: string; principal: string }),
      };
      const doomedKeyId = doomed.principal.replace(/^key:/, '');
      const waiting = await submit(doomed);
      const open = await events(waiting, doomed.cookie);
      assert.equal(open.status, 200);
      const doomedReader = (open.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
      text = '';
      const readUntil = async (pattern: RegExp) => {
        const deadline = Date.now() + 15_000;
        while (!pattern.test(text)) {
          assert.ok(Date.now() < deadline, `stream never showed ${pattern}: ${text}`);
          const { value, done } = await doomedReader.read();
          if (done) break;
          text += value;
        }
      };
      await readUntil(/event: state/);
      await host.server.runtime.keys.revoke(doomedKeyId);
      await readUntil(/event: failed\ndata: \{"code":"ANVIL_E_UNAUTHENTICATED"/);
      assert.match(text, /event: failed\ndata: \{"code":"ANVIL_E_UNAUTHENTICATED"/);
      assert.equal((await doomedReader.read()).done, true, 'the stream ends');
    });

    it('an expired session is refused and swept; a forged one is refused', async () => {
      const session = await signIn();
      await sql("update plugin_dashboard.sessions set expires_at = now() - interval '1 second' where key_id = $1", [session.keyId]);
      assert.equal((await callTool(session, 'jobs_list')).status, 401);
      await host.runScheduled('dashboard', 'sweep-sessions');
      const { rows } = await sql('select count(*)::int as n from plugin_dashboard.sessions where key_id = $1', [session.keyId]);
      assert.equal(rows[0]?.n, 0);
      assert.equal((await callTool({ cookie: `anvil_session=${'x'.repeat(43)}`, csrf: session.csrf }, 'jobs_list')).status, 401);
    });

    it('a revoked key signs its sessions out', async () => {
      const session = await signIn();
      await host.server.runtime.keys.revoke(session.keyId);
      const refused = await callTool(session, 'jobs_list');
      assert.equal(refused.status, 401);
      const { rows } = await sql('select count(*)::int as n from plugin_dashboard.sessions where key_id = $1', [session.keyId]);
      assert.equal(rows[0]?.n, 0);
    });

    it('serves the page with a strict CSP, the vendor modules from node_modules, and nothing else', async () => {
      const page = await host.request('/ui', { as: null });
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      const html = await page.text();
      assert.doesNotMatch(html.replace(/<script type="importmap">[^<]*<\/script>/, ''), /<script>(?!<)/, 'no inline script but the import map');
      for (const file of ['/ui/vendor/preact.mjs', '/ui/vendor/preact-hooks.mjs', '/ui/vendor/htm.mjs', '/ui/vendor/uplot.mjs', '/ui/vendor/uplot.css', '/ui/static/app.js']) {
        const response = await host.request(file, { as: null });
        assert.equal(response.status, 200, file);
      }
      assert.equal((await host.request('/ui/vendor/..%2F..%2Fpackage.json', { as: null })).status, 404);
      assert.equal((await host.request('/ui/static/sessions.ts', { as: null })).status, 404);
    });
  });
}

sessionsSuite('pglite', undefined, async () => ({ env: {}, cleanup: async () => {} }));
sessionsSuite('postgres', skipUnless('DATABASE_URL'), async () => {
  requireService('DATABASE_URL');
  const db = await createTempDatabase();
  return { env: { DATABASE_URL: db.url }, cleanup: () => db.drop() };
});

describe('dashboard sign-in with an OAuth access token', () => {
  let host: TestHost;
  let authServer: Awaited<ReturnType<typeof startAuthServer>>;
  const client = { id: 'dash', secret: 'dash-secret-0123456789', scope: 'jobs:read', project: 'alpha' };

  before(async () => {
    authServer = await startAuthServer({ clients: [client], key: await signingKey() });
    host = await createTestHost({ plugins: [], config: { auth: { oauth: { resource: 'http://127.0.0.1:7420/mcp', issuer: authServer.issuer } } } });
  });
  after(async () => {
    await host?.close();
    await authServer?.close();
  });

  it('is refused: a stored session could not re-check the token and would outlive its expiry; an API key still signs in', async () => {
    const jwt = await authServer.token(client, 'http://127.0.0.1:7420/mcp');
    const refused = await host.request('/ui/api/session', { method: 'POST', as: null, headers: { authorization: `Bearer ${jwt}`, origin: ORIGIN } });
    assert.equal(refused.status, 400, await refused.clone().text());
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /API key/);
    const { rows } = await host.server.runtime.services.storage.query<{ n: number }>('select count(*)::int as n from plugin_dashboard.sessions');
    assert.equal(rows[0]?.n, 0);
    const withKey = await host.request('/ui/api/session', { method: 'POST', as: { project: 'alpha', scopes: ['jobs:read'] }, headers: { origin: ORIGIN } });
    assert.equal(withKey.status, 200);
  });
});
