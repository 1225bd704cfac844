/**
 * A recipe's two output pipes as events: stdout carries protocol lines (checked, and checkpoint or
 * artifact files verified on disk), stderr free log lines. Events reach the consumer one at a time,
 * in order, never re-entrantly.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { statSync } from 'node:fs';
import { capUtf8, LineSplitter, type SplitLine } from './lines.ts';
import { MAX_LINE_BYTES, MAX_LOG_BYTES, parseRecipeLine, type RecipeEvent } from './protocol.ts';
import type { RunReport } from './run-outcome.ts';

/**
 * Ordered delivery to the run's consumer. An event the consumer causes while handling one (a stop()
 * called from onEvent logs a runner line) is queued, not delivered inside the first. Once the
 * consumer throws, nothing more reaches it and `onConsumerError` runs once.
 */
export class OrderedDelivery {
  private readonly queue: RecipeEvent[] = [];
  private delivering = false;
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly report: RunReport,
    private readonly consumer: (event: RecipeEvent) => void,
    private readonly onConsumerError: () => void,
  ) {}

  /** What the consumer threw, when it did. */
  get consumerFailure(): { error: unknown } | null {
    return this.failure;
  }

  deliver(event: RecipeEvent): void {
    this.report.record(event);
    this.queue.push(event);
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (this.failure !== null) continue;
        try {
          this.consumer(next);
        } catch (error) {
          this.failure = { error };
          this.onConsumerError();
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /** A line of the runner's own, in the recipe's log. */
  note(message: string): void {
    this.deliver({ type: 'log', level: 'runner', message });
  }
}

/** Reads both pipes of `child` into `delivery`; `onClosed` runs when either pipe closes. */
export class RecipeOutput {
  private stdoutClosed = false;
  private stderrClosed = false;
  private readonly stdout: LineSplitter;
  private readonly stderr: LineSplitter;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    workDir: string,
    delivery: OrderedDelivery,
    onClosed: () => void,
  ) {
    const onStdoutLine = (line: SplitLine): void => {
      let event = parseRecipeLine(line.text, { workDir, truncated: line.truncated, bytes: line.bytes });
      if (event === null) return;
      if (event.type === 'checkpoint' || event.type === 'artifact') {
        const problem = fileProblem(event.path, event.type === 'artifact' ? event.size : undefined);
        if (problem !== null) event = { type: 'invalid', messageType: event.type, message: `${event.type} ${problem}`, line: capUtf8(line.text, MAX_LOG_BYTES).text };
      }
      delivery.deliver(event);
      if (event.type === 'invalid') {
        delivery.note(`protocol violation${event.messageType === undefined ? '' : ` in a ${event.messageType} line`}: ${event.message}; line: ${event.line}`);
      }
    };
    this.stdout = new LineSplitter(MAX_LINE_BYTES, onStdoutLine);
    this.stderr = new LineSplitter(MAX_LOG_BYTES, (line) => {
      if (line.text.trim() === '') return;
      delivery.deliver({ type: 'log', level: 'stderr', message: line.text, ...(line.truncated ? { truncated: true as const } : {}) });
    });
    child.stdout.on('data', (chunk: Buffer) => this.stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    child.stdout.on('close', () => {
      this.stdout.end();
      this.stdoutClosed = true;
      onClosed();
    });
    child.stderr.on('close', () => {
      this.stderr.end();
      this.stderrClosed = true;
      onClosed();
    });
  }

  get closed(): boolean {
    return this.stdoutClosed && this.stderrClosed;
  }

  /** Stops reading: pipes still open (held by a process that escaped the group) are destroyed. */
  close(): void {
    if (!this.stdoutClosed) this.child.stdout.destroy();
    if (!this.stderrClosed) this.child.stderr.destroy();
    this.stdout.end();
    this.stderr.end();
  }
}

/** Null when `file` is a regular file (of `size` bytes, when given); else what is wrong. */
function fileProblem(file: string, size: number | undefined): string | null {
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return `path ${file} is not a regular file`;
    if (size !== undefined && stat.size !== size) return `file ${file} has ${stat.size} bytes, the line says ${size}`;
    return null;
  } catch {
    return `file ${file} does not exist (write the file before reporting it)`;
  }
}
