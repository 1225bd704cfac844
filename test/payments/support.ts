/**
 * The sandbox provider network as a real separate process (`anvil sandbox-psp`) for payments
 * tests, and small helpers to tokenize test cards at it the way a checkout page would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { anvilBin, childEnv, exitOf, repoRoot, track } from '../support/anvil-process.ts';

export interface SandboxPspProcess {
  readonly url: string;
  readonly apiKey: string;
  readonly webhookSecret: string;
  readonly child: ChildProcess;
  tokenize(number: string): Promise<string>;
  request<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }>;
  stop(): Promise<void>;
}

export async function startSandboxPsp(options: { seed?: number; faults?: 'none' | 'default' | 'heavy'; timeoutHoldMs?: number } = {}): Promise<SandboxPspProcess> {
  const apiKey = 'sk_test_sandbox';
  const webhookSecret = 'whsec_test_sandbox';
  const args = [
    anvilBin, 'sandbox-psp', '--port', '0', '--seed', String(options.seed ?? 1), '--faults', options.faults ?? 'none',
    '--api-key', apiKey, '--webhook-secret', webhookSecret, '--timeout-hold-ms', String(options.timeoutHoldMs ?? 4_000),
  ];
  // The test runner's ANVIL_FROM_SOURCE (dropped by childEnv) is passed on: the child runs the same sources.
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: childEnv({ ANVIL_FROM_SOURCE: process.env.ANVIL_FROM_SOURCE }), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox-psp did not start: ${stderr}`)), 90_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /\{"url":"([^"]+)"\}/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    void exitOf(child).then((status) => reject(new Error(`sandbox-psp exited ${String(status.code ?? status.signal)}: ${stderr}`)));
  });
  const request = async <T,>(method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(new URL(path, url), {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
  return {
    url,
    apiKey,
    webhookSecret,
    child,
    request,
    async tokenize(number) {
      const { status, json } = await request<{ id: string }>('POST', '/v1/tokens', { number });
      if (status !== 200) throw new Error(`tokenize failed: ${status}`);
      return json.id;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exitOf(child);
    },
  };
}

export function providerConfig(psp: SandboxPspProcess, timeoutMs = 2_000): { url: string; apiKey: string; webhookSecret: string; timeoutMs: number } {
  return { url: psp.url, apiKey: psp.apiKey, webhookSecret: psp.webhookSecret, timeoutMs };
}

/** Polls `read` until `done` says so (background work: webhooks, polling, resume), or fails after `ms`. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await read();
  }
  return value;
}
