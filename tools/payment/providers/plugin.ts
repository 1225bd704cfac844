/**
 * The `payments-sandbox` plugin: provides the sandbox provider network (`anvil sandbox-psp`) as the
 * payment provider `sandbox`. Switched on in anvil.config.json:
 * `{"id": "payments-sandbox", "config": {"url": "http://127.0.0.1:4500", "apiKey": "sk_sandbox", "webhookSecret": "whsec_sandbox"}}`.
 */
import { definePlugin, z } from 'anvil/plugin';
import { SandboxProvider } from './sandbox.ts';
import './types.ts';

const config = z
  .object({
    url: z.string().url(),
    apiKey: z.string().min(1),
    webhookSecret: z.string().min(8),
    timeoutMs: z.number().int().min(50).max(60_000).optional(),
  })
  .strict();

export const sandboxProviderPlugin = definePlugin({
  id: 'payments-sandbox',
  version: '0.1.0',
  apiVersion: 1,
  description: 'The sandbox payment provider network (anvil sandbox-psp) as payment provider "sandbox"',
  permissions: ['network'],
  config,
  register(ctx) {
    ctx.provide('paymentProviders', 'sandbox', new SandboxProvider(ctx.config));
  },
});
