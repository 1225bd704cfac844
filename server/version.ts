import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from './package-root.ts';

const packageJson = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string; name: string };

export const anvilVersion: string = packageJson.version;
export const anvilName: string = packageJson.name;
