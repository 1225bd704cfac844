/**
 * Serves PGlite's one Postgres session to many `pg` connections over the Postgres wire protocol,
 * through PGlite's public `execProtocolRawSync`.
 *
 * PGlite has a single backend session. A connection owns it from its first message until the
 * backend answers ReadyForQuery with status 'I' (idle, outside a transaction); only then may
 * another connection's messages run, so extended-protocol batches (Parse/Bind/Execute/Sync) and
 * transactions never interleave (the stock pglite-socket queue interleaves them:
 * electric-sql/pglite#1046). An owner that goes silent while holding the session (idle in a
 * transaction, or half way through an extended-protocol batch) would stall everyone, so after
 * `idleInTransactionTimeoutMs` its work is rolled back and its connection closed, as Postgres does
 * with `idle_in_transaction_session_timeout` (SQLSTATE 25P03).
 */
import net from 'node:net';

/** What this module needs of PGlite (its public API). */
export interface ProtocolEngine {
  execProtocolRawSync(message: Uint8Array): Uint8Array;
}

export interface WireServerOptions {
  engine: ProtocolEngine;
  /** Unix socket path to listen on. */
  path: string;
  /** An owner silent this long while holding the session loses its transaction and connection. */
  idleInTransactionTimeoutMs: number;
  maxConnections?: number;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const SYNC_MESSAGE = Uint8Array.of(0x53, 0, 0, 0, 4);
const ROLLBACK_MESSAGE = queryMessage('ROLLBACK');

function queryMessage(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/** A FATAL ErrorResponse, sent before closing a connection the server gives up on. */
function fatalMessage(sqlstate: string, text: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${sqlstate}\0M${text}\0\0`, 'utf8');
  const message = Buffer.alloc(5 + fields.length);
  message[0] = 0x45; // 'E'
  message.writeInt32BE(4 + fields.length, 1);
  fields.copy(message, 5);
  return message;
}

/** The status byte of the output's final message if it is ReadyForQuery, else undefined. */
function finalReadyStatus(output: Uint8Array): number | undefined {
  if (output.length < 6) return undefined;
  let offset = 0;
  let lastStart = -1;
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
  while (offset + 5 <= output.length) {
    lastStart = offset;
    offset += 1 + view.getInt32(offset + 1);
  }
  if (lastStart < 0 || offset !== output.length || output[lastStart] !== READY_FOR_QUERY) return undefined;
  return output[lastStart + 5];
}

class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  /** Complete messages not yet run, in arrival order. */
  readonly pending: Uint8Array[] = [];
  closed = false;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
  ) {}

  /** Splits newly arrived bytes into messages; answers SSL/GSS requests; returns false to close. */
  receive(data: Buffer): boolean {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    while (this.buffer.length >= 4) {
      if (!this.started) {
        if (this.buffer.length < 8) break;
        const length = this.buffer.readInt32BE(0);
        const code = this.buffer.readInt32BE(4);
        if (this.buffer.length < length) break;
        const message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        if (length === 8 && (code === SSL_REQUEST || code === GSS_REQUEST)) {
          this.socket.write('N');
          continue;
        }
        // PGlite has no backend process to signal: a cancel request is dropped, as pglite-socket does.
        if (code === CANCEL_REQUEST) return false;
        if (code !== PROTOCOL_3) return false;
        this.started = true;
        this.pending.push(new Uint8Array(message));
        continue;
      }
      if (this.buffer.length < 5) break;
      const length = 1 + this.buffer.readInt32BE(1);
      if (this.buffer.length < length) break;
      const message = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      if (message[0] === TERMINATE) return false;
      this.pending.push(new Uint8Array(message));
    }
    return true;
  }

  /** Takes every pending message as one batch; the startup packet always runs on its own. */
  takeBatch(): Uint8Array {
    const first = this.pending[0] as Uint8Array;
    if (first[0] === 0 || this.pending.length === 1) {
      this.pending.shift();
      return first;
    }
    let size = 0;
    let count = 0;
    for (const message of this.pending) {
      if (message[0] === 0) break;
      size += message.length;
      count++;
    }
    const batch = new Uint8Array(size);
    let offset = 0;
    for (const message of this.pending.splice(0, count)) {
      batch.set(message, offset);
      offset += message.length;
    }
    return batch;
  }
}

/** The single session and who holds it. Everything runs on this thread, one batch at a time. */
export class WireServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  /** Connections with pending messages, waiting for the session (never the owner). */
  private readonly waiting: Connection[] = [];
  private owner: Connection | null = null;
  private ownerTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private nextId = 1;

  constructor(private readonly options: WireServerOptions) {
    this.server = net.createServer((socket) => this.accept(socket));
    this.server.maxConnections = options.maxConnections ?? 256;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of [...this.connections]) this.drop(connection);
    await closed;
  }

  private accept(socket: net.Socket): void {
    const connection = new Connection(this.nextId++, socket);
    this.connections.add(connection);
    socket.on('data', (data: Buffer) => {
      if (connection.closed) return;
      if (!connection.receive(data)) {
        this.drop(connection);
        return;
      }
      if (connection.pending.length === 0) return;
      if (connection === this.owner) this.clearOwnerTimer();
      else if (!this.waiting.includes(connection)) this.waiting.push(connection);
      this.schedule();
    });
    socket.on('error', () => this.drop(connection));
    socket.on('close', () => this.drop(connection));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Run after the current I/O callbacks, so messages that arrived together are batched.
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  /** Runs batches until nobody can proceed: the owner has nothing pending, or nobody waits. */
  private run(): void {
    for (;;) {
      let connection = this.owner;
      if (connection === null) {
        connection = this.waiting.shift() ?? null;
        if (connection === null) return;
      } else if (connection.pending.length === 0) {
        this.armOwnerTimer();
        return;
      }
      if (connection.closed || connection.pending.length === 0) continue;
      this.owner = connection;
      const output = this.options.engine.execProtocolRawSync(connection.takeBatch());
      if (output.length > 0 && !connection.socket.destroyed) connection.socket.write(output);
      if (finalReadyStatus(output) === IDLE) {
        this.owner = null;
        // Fairness: a connection with more to run queues behind the others.
        if (connection.pending.length > 0) this.waiting.push(connection);
      }
    }
  }

  private armOwnerTimer(): void {
    this.clearOwnerTimer();
    const owner = this.owner;
    if (owner === null) return;
    this.ownerTimer = setTimeout(() => {
      if (this.owner !== owner) return;
      owner.socket.end(fatalMessage('25P03', 'terminating connection due to idle-in-transaction timeout'));
      this.drop(owner);
    }, this.options.idleInTransactionTimeoutMs);
    this.ownerTimer.unref();
  }

  private clearOwnerTimer(): void {
    if (this.ownerTimer) clearTimeout(this.ownerTimer);
    this.ownerTimer = undefined;
  }

  /** Forgets a connection; if it held the session, ends its batch and rolls its transaction back. */
  private drop(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.pending.length = 0;
    this.connections.delete(connection);
    const index = this.waiting.indexOf(connection);
    if (index !== -1) this.waiting.splice(index, 1);
    // A socket already ending (a FATAL message on its way) closes by itself; give it a second.
    if (connection.socket.writableEnded) setTimeout(() => connection.socket.destroy(), 1_000).unref();
    else connection.socket.destroy();
    if (this.owner !== connection) return;
    this.clearOwnerTimer();
    // Sync ends a half-sent extended-protocol batch; its ReadyForQuery says whether a transaction is open.
    const status = finalReadyStatus(this.options.engine.execProtocolRawSync(SYNC_MESSAGE));
    if (status !== undefined && status !== IDLE) this.options.engine.execProtocolRawSync(ROLLBACK_MESSAGE);
    this.owner = null;
    this.schedule();
  }
}
