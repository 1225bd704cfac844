/** The SQL files beside this plugin's code, read once at module load (a missing file fails at start). */
import { readFileSync } from 'node:fs';

export const loadSql = (name: string): string => readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), 'utf8');
