import { runCli } from './main.ts';

const code = await runCli(process.argv.slice(2));
// Let pending stdout/stderr writes drain before leaving; `serve` has already closed its handles.
process.exitCode = code;
setImmediate(() => process.exit(code)).unref();
