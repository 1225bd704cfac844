/**
 * What the payments tests share: the sandbox provider network as its own process (`anvil
 * sandbox-psp`, no injected faults) with a test host whose sandbox provider plugin points at it,
 * and how they read tool outcomes.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import { createTestHost, flatten, type CallOutcome, type TestHost } from 'anvil/testing';
import { sandboxProviderPlugin } from '../../tools/payment/providers/plugin.ts';
import { providerConfig, startSandboxPsp, type SandboxPspProcess } from '../payments/support.ts';

export interface SandboxPayments {
  readonly psp: SandboxPspProcess;
  readonly host: TestHost;
  /** Closes the host, then stops the provider network. */
  close(): Promise<void>;
}

export async function startSandboxPayments(): Promise<SandboxPayments> {
  const psp = await startSandboxPsp({ faults: 'none' });
  try {
    const host = await createTestHost({ plugins: [{ plugin: sandboxProviderPlugin, config: providerConfig(psp) }] });
    return {
      psp,
      host,
      async close() {
        await host.close();
        await psp.stop();
      },
    };
  } catch (error) {
    await psp.stop();
    throw error;
  }
}

/** The structured result of a call that must succeed. */
export function ok(outcome: CallOutcome): Record<string, unknown> {
  assert.equal(outcome.isError, false, outcome.text);
  return outcome.structured as Record<string, unknown>;
}

/** Asserts the call failed with `code` (and a message matching `pattern`). */
export function fails(outcome: CallOutcome, code: string, pattern?: RegExp): void {
  assert.equal(outcome.isError, true, `expected ${code}, got success: ${JSON.stringify(outcome.structured)}`);
  assert.ok(outcome.text.startsWith(code), outcome.text);
  if (pattern) assert.match(outcome.text, pattern);
}

/** Calls tools as `client`, flattened like `host.call`. */
export const callAs =
  (client: Client) =>
  async (tool: string, args: Record<string, unknown> = {}): Promise<CallOutcome> =>
    flatten(await client.callTool({ name: tool, arguments: args }));
