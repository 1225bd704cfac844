/**
 * Job metrics: points appended by workers (job id only; a retried batch is harmless) and read by a
 * project (NOT_FOUND for another project's job).
 */
import { loadSql, type PluginSql } from 'anvil/plugin';
import { type MetricPoint, type MetricRow, toMetricPoint } from '../rows.ts';
import type { MetricPointInput } from '../store-types.ts';
import { int, invalid, text, uuid } from '../validate.ts';
import { LIMITS, NAME_MAX, notFound, optionalDate, project } from './checks.ts';

const sql = (name: string) => loadSql(import.meta.url, `../sql/${name}.sql`);
const SQL = {
  logHead: sql('log-head'),
  metricsUpsert: sql('metrics-upsert'),
  metrics: sql('metrics'),
} as const;

export class MetricStore {
  constructor(private readonly sql: PluginSql) {}

  /** Records points; sending a (name, step) again replaces its value, so retried batches are harmless. */
  async append(jobId: string, points: readonly MetricPointInput[]): Promise<{ count: number }> {
    const id = uuid(jobId);
    if (points.length > LIMITS.metricBatchMax) throw invalid(`a metric batch holds at most ${LIMITS.metricBatchMax} points, got ${points.length}`);
    // One row per (name, step) in a batch: Postgres refuses to upsert a row twice in one statement. Last wins.
    const unique = new Map<string, MetricPointInput>();
    for (const [index, point] of points.entries()) {
      text(point.name, `points[${index}].name`, NAME_MAX);
      int(point.step, `points[${index}].step`, 0, Number.MAX_SAFE_INTEGER);
      if (typeof point.value !== 'number') throw invalid(`points[${index}].value must be a number (NaN and Infinity are kept)`);
      optionalDate(point.at, `points[${index}].at`);
      unique.set(`${point.step}\u0000${point.name}`, point);
    }
    if (unique.size === 0) return { count: 0 };
    const batch = [...unique.values()];
    try {
      await this.sql.query(SQL.metricsUpsert, [
        id,
        batch.map((point) => point.step),
        batch.map((point) => point.name),
        batch.map((point) => point.value),
        batch.map((point) => point.at ?? null),
      ]);
    } catch (error) {
      if ((error as { code?: unknown }).code === '23503') throw notFound(id); // foreign key: no such job
      throw error;
    }
    return { count: batch.length };
  }

  /** A project's job's metric points (one name, or all), by name then step. */
  async read(projectId: string, jobId: string, name?: string): Promise<MetricPoint[]> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const metric = name === undefined ? null : text(name, 'name', NAME_MAX);
    if (!(await this.sql.query(SQL.logHead, [id, inProject])).rows[0]) throw notFound(id, inProject);
    return (await this.sql.query<MetricRow>(SQL.metrics, [id, metric])).rows.map(toMetricPoint);
  }

}
