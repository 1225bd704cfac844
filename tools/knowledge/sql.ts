import { readFileSync } from 'node:fs';

/** A `.sql` file of ./sql, read at module load so a missing file fails at start. */
export function sqlFile(name: string): string {
  return readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), 'utf8');
}

export const knowledgeMigrations = new URL('./migrations/', import.meta.url);
