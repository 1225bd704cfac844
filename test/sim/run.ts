/**
 * Simulation runner: `npm run sim -- <name> [options]` runs `test/sim/<name>.sim.ts`. A simulation
 * prints progress to stderr and its verdict as the last line of stdout, and exits non-zero when an
 * invariant broke.
 */
import { pathToFileURL } from 'node:url';

const [name, ...rest] = process.argv.slice(2);
if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
  process.stderr.write('usage: npm run sim -- <name> [options]   (e.g. npm run sim -- payments --seed 1 --ops 500)\n');
  process.exit(2);
}
const module = (await import(pathToFileURL(new URL(`./${name}.sim.ts`, import.meta.url).pathname).href)) as { run(argv: string[]): Promise<number> };
process.exit(await module.run(rest));
