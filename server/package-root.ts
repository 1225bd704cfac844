import path from 'node:path';
import { fileURLToPath } from 'node:url';

const serverDir = path.dirname(fileURLToPath(import.meta.url));
const parent = path.dirname(serverDir);

/** Anvil's package root (where package.json is), whether this runs from the sources or from dist/. */
export const packageRoot: string = path.basename(parent) === 'dist' ? path.dirname(parent) : parent;
