/** The SQL files beside this plugin's code (`sql/<name>.sql`), read once at module load. */
import { loadSql as loadBeside, type PluginSql, type SqlExecutor } from 'anvil/plugin';

export const loadSql = (name: string): string => loadBeside(import.meta.url, `./sql/${name}.sql`);

const READ_SNAPSHOT = loadSql('read-snapshot');

/**
 * Runs `work` in one read-only REPEATABLE READ transaction (`ctx.sql.transaction`), so reads made
 * in several queries agree with each other though the prediction log is written meanwhile. The
 * same on Postgres and embedded PGlite. `work` must query through `tx` alone: on PGlite the open
 * transaction holds the one session, and a query on another connection would wait for it to end.
 */
export function readSnapshot<T>(sql: PluginSql, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  return sql.transaction(async (tx) => {
    await tx.query(READ_SNAPSHOT);
    return work(tx);
  });
}
