import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; name: string };

export const anvilVersion: string = packageJson.version;
export const anvilName: string = packageJson.name;
