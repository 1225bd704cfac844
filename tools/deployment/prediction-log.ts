/**
 * The prediction log: rows are pushed on the request path into a bounded in-memory buffer (never
 * awaited, never blocking) and written in batches by a background flush; when the buffer is full a
 * row is dropped and counted instead of growing memory or slowing a caller. `flush()` writes what
 * is buffered now (feedback calls it so a label can join a prediction made a moment ago).
 */
import type { Logger, PluginSql } from 'anvil/plugin';
import { loadSql } from './sql.ts';

const INSERT = loadSql('predictions-insert');

export interface PredictionRow {
  project: string;
  request_id: string;
  shadow: boolean;
  deployment: string;
  variant: string;
  model_version: number;
  at: string;
  latency_ms: number;
  batch_size: number;
  label: string | null;
  top_label: string | null;
  probability: number | null;
  abstained: boolean;
  threshold: number | null;
  error: string | null;
  input: unknown;
}

export interface LogStats {
  buffered: number;
  written: number;
  dropped: number;
  failedWrites: number;
}

export class PredictionLog {
  private buffer: PredictionRow[] = [];
  private writing: Promise<void> | undefined;
  private readonly stats_ = { written: 0, dropped: 0, failedWrites: 0 };

  constructor(
    private readonly sql: PluginSql,
    private readonly capacity: number,
    private readonly batchRows: number,
    private readonly log: Logger,
    private readonly onDrop: (count: number) => void,
  ) {}

  push(row: PredictionRow): void {
    if (this.buffer.length >= this.capacity) {
      this.stats_.dropped++;
      this.onDrop(1);
      return;
    }
    this.buffer.push(row);
  }

  /** Writes everything buffered (in batches of `batchRows`); one write at a time. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.buffer.length === 0) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchRows);
      try {
        await this.sql.query(INSERT, [JSON.stringify(batch)]);
        this.stats_.written += batch.length;
      } catch (error) {
        // The log never fails a prediction: a failed write is counted as dropped rows.
        this.stats_.failedWrites++;
        this.stats_.dropped += batch.length;
        this.onDrop(batch.length);
        this.log.warn({ err: error, rows: batch.length }, 'prediction log rows could not be written; dropped');
        return;
      }
    }
  }

  stats(): LogStats {
    return { buffered: this.buffer.length, ...this.stats_ };
  }
}
