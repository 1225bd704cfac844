/**
 * Job logs: appended by workers (job id only) with consecutive, gap-free seq numbers; read by a
 * project in pages within a byte budget (NOT_FOUND for another project's job).
 */
import { loadSql, type PluginSql } from 'anvil/plugin';
import type { LogLevel, LogLine, LogRow } from '../rows.ts';
import type { AppendLogsResult, LogLineInput, LogPage, LogsOptions } from '../store-types.ts';
import { cleanText, cutUtf8, int, invalid, uuid } from '../validate.ts';
import { LIMITS, notFound, optionalDate, project } from './checks.ts';

const sql = (name: string) => loadSql(import.meta.url, `../sql/${name}.sql`);
const SQL = {
  logHead: sql('log-head'),
  logsAppend: sql('logs-append'),
  logsAfter: sql('logs-after'),
  logsTail: sql('logs-tail'),
} as const;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export class LogStore {
  constructor(private readonly sql: PluginSql) {}

  /**
   * Appends lines with consecutive seq numbers (unique and gap-free under concurrent writers).
   * NUL becomes U+FFFD; a line over 16 KiB is cut and ends with "…".
   */
  async append(jobId: string, lines: readonly LogLineInput[]): Promise<AppendLogsResult> {
    const id = uuid(jobId);
    if (lines.length > LIMITS.logBatchMax) throw invalid(`a log batch holds at most ${LIMITS.logBatchMax} lines, got ${lines.length}`);
    if (lines.length === 0) return { count: 0, firstSeq: null, lastSeq: null };
    const levels: string[] = [];
    const messages: string[] = [];
    const times: Array<Date | null> = [];
    for (const [index, line] of lines.entries()) {
      if (typeof line.message !== 'string') throw invalid(`lines[${index}].message must be a string`);
      const level = line.level ?? 'info';
      if (!LOG_LEVELS.includes(level)) throw invalid(`lines[${index}].level must be one of ${LOG_LEVELS.join(', ')}`);
      optionalDate(line.at, `lines[${index}].at`);
      const message = cleanText(line.message);
      levels.push(level);
      messages.push(Buffer.byteLength(message) > LIMITS.logLineBytesMax ? `${cutUtf8(message, LIMITS.logLineBytesMax - 3)}…` : message);
      times.push(line.at ?? null);
    }
    const row = (await this.sql.query<{ base: string; count: string }>(SQL.logsAppend, [id, lines.length, levels, messages, times])).rows[0];
    if (!row) throw notFound(id);
    const first = Number(row.base) + 1;
    return { count: Number(row.count), firstSeq: first, lastSeq: first + lines.length - 1 };
  }

  /**
   * A page of a project's job's log within a byte budget for message text (never exceeded: a
   * single line over the budget comes back cut, marked `cut`). Page on with `afterSeq: nextSeq`.
   */
  async page(projectId: string, jobId: string, options: LogsOptions = {}): Promise<LogPage> {
    const inProject = project(projectId);
    const id = uuid(jobId);
    const maxBytes = int(options.maxBytes ?? LIMITS.logPageBytesDefault, 'maxBytes', 1, LIMITS.logPageBytesMax);
    const maxLines = int(options.maxLines ?? LIMITS.logPageLinesMax, 'maxLines', 1, LIMITS.logPageLinesMax);
    if (options.tail !== undefined && options.afterSeq !== undefined) throw invalid('give afterSeq or tail, not both');
    const head = (await this.sql.query<{ log_seq: string }>(SQL.logHead, [id, inProject])).rows[0];
    if (!head) throw notFound(id, inProject);
    const lastSeq = Number(head.log_seq);

    if (options.tail !== undefined) {
      const tail = Math.min(int(options.tail, 'tail', 1, LIMITS.logPageLinesMax), maxLines);
      const rows = (await this.sql.query<LogRow>(SQL.logsTail, [id, tail, maxBytes])).rows;
      const lines = rows.map((row) => this.logLine(row, maxBytes));
      const first = lines[0];
      const last = lines[lines.length - 1];
      return { lines, nextSeq: last?.seq ?? lastSeq, lastSeq: Math.max(lastSeq, last?.seq ?? 0), truncated: first !== undefined && first.seq > 1 };
    }

    const afterSeq = int(options.afterSeq ?? 0, 'afterSeq', 0, Number.MAX_SAFE_INTEGER);
    const rows = (await this.sql.query<LogRow>(SQL.logsAfter, [id, afterSeq, maxLines, maxBytes])).rows;
    const lines = rows.map((row) => this.logLine(row, maxBytes));
    const nextSeq = lines[lines.length - 1]?.seq ?? afterSeq;
    const seen = Math.max(lastSeq, nextSeq);
    return { lines, nextSeq, lastSeq: seen, truncated: nextSeq < seen };
  }

  private logLine(row: LogRow, maxBytes: number): LogLine {
    const line: LogLine = { seq: Number(row.seq), at: row.at, level: row.level as LogLevel, message: row.message };
    if (Number(row.running) > maxBytes) {
      // Only the page's first line can be over budget (the query keeps it so paging moves on).
      line.message = cutUtf8(row.message, maxBytes);
      line.cut = true;
    }
    return line;
  }

}
