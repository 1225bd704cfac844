/** Dependencies between jobs of one project: whether a job may run, and who waits on a job. */
import { loadSql, type PluginSql } from 'anvil/plugin';
import type { DependencyStatus } from '../store-types.ts';
import type { JobState } from '../states.ts';
import { uuid } from '../validate.ts';
import { notFound } from './checks.ts';

const sql = (name: string) => loadSql(import.meta.url, `../sql/${name}.sql`);
const SQL = {
  dependencies: sql('dependencies'),
  dependents: sql('dependents'),
} as const;

export class DependencyStore {
  constructor(private readonly sql: PluginSql) {}

  /** Whether a job may run: all dependencies succeeded, some still pending, or one can never succeed. */
  async status(jobId: string): Promise<DependencyStatus> {
    const id = uuid(jobId);
    const { rows } = await this.sql.query<{ dependency: string | null; state: string | null }>(SQL.dependencies, [id]);
    if (rows.length === 0) throw notFound(id);
    const failed: Array<{ id: string; state: JobState | 'missing' }> = [];
    const waitingOn: string[] = [];
    for (const row of rows) {
      if (row.dependency === null) continue;
      if (row.state === null) failed.push({ id: row.dependency, state: 'missing' });
      else if (row.state === 'failed' || row.state === 'cancelled') failed.push({ id: row.dependency, state: row.state });
      else if (row.state !== 'succeeded') waitingOn.push(row.dependency);
    }
    if (failed.length > 0) return { status: 'failed', failed };
    if (waitingOn.length > 0) return { status: 'waiting', waitingOn };
    return { status: 'satisfied' };
  }

  /** Queued jobs waiting on `jobId`, in dispatch order (to release or fail when it finishes). */
  async dependents(jobId: string): Promise<string[]> {
    const id = uuid(jobId);
    return (await this.sql.query<{ id: string }>(SQL.dependents, [id])).rows.map((row) => row.id);
  }
}
