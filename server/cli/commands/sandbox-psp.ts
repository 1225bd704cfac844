import { parseArgs } from 'node:util';
import { AnvilError, ErrorCodes } from '../../errors.ts';
import { type FaultLevel, loadSandboxPsp } from '../../../tools/builtins.ts';
import { type CliIo, ExitCode } from '../io.ts';

const help = `Usage: anvil sandbox-psp [options]

Runs the sandbox payment provider network (several simulated acquirers) as its own HTTP process.

Options:
  --port N             port to listen on (default 4500; 0 picks a free one)
  --host H             address to bind (default 127.0.0.1)
  --seed S             seed of every simulated fault and decline (default 1)
  --faults LEVEL       none | default | heavy (default: default)
  --api-key K          the key clients send as Bearer (default: ANVIL_PSP_API_KEY or sk_sandbox)
  --webhook-secret S   HMAC secret webhooks are signed with (default: ANVIL_PSP_WEBHOOK_SECRET or whsec_sandbox)
  --webhook URL        deliver webhooks to URL (repeatable; also POST /v1/webhook_endpoints)
  --timeout-hold-ms N  how long a simulated timeout holds its answer (default 20000)

Prints "sandbox-psp listening on <url>" to stderr and {"url": ...} to stdout once ready.`;

export async function sandboxPspCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '4500' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string', default: '1' },
      faults: { type: 'string', default: 'default' },
      'api-key': { type: 'string' },
      'webhook-secret': { type: 'string' },
      webhook: { type: 'string', multiple: true },
      'timeout-hold-ms': { type: 'string', default: '20000' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.out(help);
    return ExitCode.ok;
  }
  const port = Number(values.port);
  const seed = Number(values.seed);
  const hold = Number(values['timeout-hold-ms']);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new AnvilError(ErrorCodes.USAGE, '--port: expected 0..65535');
  if (!Number.isInteger(seed)) throw new AnvilError(ErrorCodes.USAGE, '--seed: expected a whole number');
  if (!Number.isInteger(hold) || hold < 0) throw new AnvilError(ErrorCodes.USAGE, '--timeout-hold-ms: expected a whole number of milliseconds');
  if (!['none', 'default', 'heavy'].includes(values.faults)) throw new AnvilError(ErrorCodes.USAGE, '--faults: expected none, default or heavy');
  const SandboxPsp = await loadSandboxPsp();
  const psp = new SandboxPsp({
    port,
    host: values.host,
    seed,
    faults: values.faults as FaultLevel,
    apiKey: values['api-key'] ?? io.env.ANVIL_PSP_API_KEY ?? 'sk_sandbox',
    webhookSecret: values['webhook-secret'] ?? io.env.ANVIL_PSP_WEBHOOK_SECRET ?? 'whsec_sandbox',
    timeoutHoldMs: hold,
    log: (line) => io.err(line),
  });
  const url = await psp.listen();
  for (const endpoint of values.webhook ?? []) psp.addWebhookEndpoint(endpoint);
  io.err(`sandbox-psp listening on ${url} (seed ${seed}, faults ${values.faults})`);
  io.out(JSON.stringify({ url }));
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await psp.close();
  return ExitCode.ok;
}
