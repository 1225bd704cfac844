/** The SQL files beside this plugin's code (`sql/<name>.sql`), read once at module load. */
import { loadSql as loadBeside } from 'anvil/plugin';

export const loadSql = (name: string): string => loadBeside(import.meta.url, `./sql/${name}.sql`);
