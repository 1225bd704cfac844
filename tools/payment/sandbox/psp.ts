/**
 * `anvil sandbox-psp`: a simulated payment provider network in its own process, so that faults
 * cross a real network boundary. Several acquirers with seeded latency, declines by card range,
 * soft declines, timeouts (the payment is made, the answer never comes in time), 5xx (nothing is
 * made), and signed webhooks delivered duplicated and out of order. Cards are tokenized here
 * (`POST /v1/tokens`); everything else sees tokens only. State lives in memory: it is a simulator.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { canonicalJson } from '../canonical.ts';
import { acquirerProfiles, cardBehaviour, type AcquirerProfile, type FaultLevel, feeFor, seeded, webhookFaults } from './behaviour.ts';
import type { PspEvent, PspPayment } from './wire.ts';

export interface PspOptions {
  port: number;
  host?: string;
  seed: number;
  faults: FaultLevel;
  apiKey: string;
  webhookSecret: string;
  /** How long a "timed out" answer is held back (the client gives up long before). */
  timeoutHoldMs?: number;
  log?: (line: string) => void;
}

interface Token {
  id: string;
  number: string;
  last4: string;
}

interface StoredPayment extends PspPayment {
  token: string;
}

interface IdempotentAnswer {
  hash: string;
  status: number;
  body: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

export function signPayload(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class SandboxPsp {
  private server: Server | undefined;
  private readonly acquirers: Map<string, AcquirerProfile>;
  private readonly tokens = new Map<string, Token>();
  private readonly payments = new Map<string, StoredPayment>();
  private readonly byKey = new Map<string, IdempotentAnswer>();
  private readonly attempts = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly events: PspEvent[] = [];
  private readonly endpoints = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private counter = 0;

  constructor(private readonly options: PspOptions) {
    this.acquirers = new Map(acquirerProfiles(options.faults).map((profile) => [profile.name, profile]));
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.options.port, this.options.host ?? '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.options.port;
    return `http://${this.options.host ?? '127.0.0.1'}:${port}`;
  }

  addWebhookEndpoint(url: string): void {
    this.endpoints.add(url);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private nextId(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter.toString(36)}${randomBytes(4).toString('hex')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://psp');
      if (url.pathname === '/healthz') return this.send(res, 200, { ok: true });
      if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) throw new HttpError(401, 'unauthorized', 'missing or wrong API key');
      const body = req.method === 'POST' ? await this.readBody(req) : {};
      const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
      const parts = url.pathname.split('/').filter(Boolean);
      if (parts[0] !== 'v1') throw new HttpError(404, 'not_found', 'unknown path');
      const route = `${req.method} ${parts.slice(1).map((part, index) => (index === 1 ? ':id' : part)).join('/')}`;
      const id = parts[2] ?? '';
      switch (route) {
        case 'POST tokens':
          return this.send(res, 200, this.tokenize(body));
        case 'GET acquirers':
          return this.send(res, 200, { acquirers: [...this.acquirers.values()].map(({ name, fee }) => ({ name, fee })) });
        case 'POST webhook_endpoints':
          if (typeof body.url !== 'string') throw new HttpError(400, 'invalid_request', 'url is required');
          this.endpoints.add(body.url);
          return this.send(res, 200, { url: body.url });
        case 'GET events':
          return this.send(res, 200, this.listEvents(Number(url.searchParams.get('after') ?? 0), Number(url.searchParams.get('limit') ?? 100)));
        case 'GET report':
          return this.send(res, 200, { payments: [...this.payments.values()].map((payment) => this.view(payment)) });
        case 'GET payments': {
          const wanted = url.searchParams.get('idempotency_key');
          const found = [...this.payments.values()].find((payment) => payment.idempotency_key === wanted);
          if (!found) throw new HttpError(404, 'not_found', 'no payment with that idempotency key');
          return this.send(res, 200, this.view(found));
        }
        case 'POST payments':
          return await this.idempotent(res, key, 'create', body, () => this.authorize(body, key as string));
        case 'GET payments/:id':
          return this.send(res, 200, this.view(this.payment(id)));
        case 'POST payments/:id/capture':
          return await this.idempotent(res, key, `capture:${id}`, body, async () => this.capture(this.payment(id), body));
        case 'POST payments/:id/refunds':
          return await this.idempotent(res, key, `refund:${id}`, body, async () => this.refund(this.payment(id), body));
        case 'POST payments/:id/cancel':
          return await this.idempotent(res, key, `cancel:${id}`, body, async () => this.cancel(this.payment(id)));
        case 'POST payments/:id/authenticate':
          return this.send(res, 200, this.authenticate(this.payment(id), body));
        default:
          throw new HttpError(404, 'not_found', `no route ${req.method} ${url.pathname}`);
      }
    } catch (error) {
      if (error instanceof HttpError) return this.send(res, error.status, { error: { code: error.code, message: error.message } });
      this.options.log?.(`sandbox-psp: ${String(error)}`);
      return this.send(res, 500, { error: { code: 'internal', message: 'internal error' } });
    }
  }

  private readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > 65_536) reject(new HttpError(413, 'too_large', 'body too large'));
      });
      req.on('end', () => {
        try {
          const parsed: unknown = text ? JSON.parse(text) : {};
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
          resolve(parsed as Record<string, unknown>);
        } catch {
          reject(new HttpError(400, 'invalid_json', 'body must be a JSON object'));
        }
      });
      req.on('error', reject);
    });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private payment(id: string): StoredPayment {
    const payment = this.payments.get(id);
    if (!payment) throw new HttpError(404, 'not_found', `no payment ${id}`);
    return payment;
  }

  private view(payment: StoredPayment): PspPayment {
    const { token: _token, ...rest } = payment;
    return { ...rest, refunds: rest.refunds.map((refund) => ({ ...refund })) };
  }

  private tokenize(body: Record<string, unknown>): { id: string; last4: string } {
    const number = typeof body.number === 'string' ? body.number.replace(/[ -]/g, '') : '';
    if (!/^\d{13,19}$/.test(number) || !luhnValid(number)) throw new HttpError(400, 'invalid_number', 'not a valid card number');
    const token = { id: this.nextId('tok'), number, last4: number.slice(-4) };
    this.tokens.set(token.id, token);
    return { id: token.id, last4: token.last4 };
  }

  /**
   * Same key and body: the stored answer. Same key, other body: 409. A 5xx stores nothing (the
   * retry runs again); a timeout stores the answer (the payment happened) and sends it too late.
   */
  private async idempotent(res: ServerResponse, key: string | undefined, scope: string, body: Record<string, unknown>, work: () => Promise<{ status: number; body: unknown }>): Promise<void> {
    if (!key) throw new HttpError(400, 'idempotency_key_required', 'Idempotency-Key header is required');
    // Concurrent requests with one key run one after another, so the second sees the first's answer.
    const lockKey = `${scope}|${key}`;
    const previous = this.inflight.get(lockKey) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.inflight.set(lockKey, previous.then(() => mine));
    await previous;
    let answer: { status: number; body: unknown; holdMs: number };
    try {
      answer = await this.idempotentOnce(key, scope, body, work);
    } finally {
      release();
    }
    // A simulated timeout: the payment is made and stored, the answer comes after the client gave up.
    await this.sleep(answer.holdMs);
    this.send(res, answer.status, answer.body);
  }

  private async idempotentOnce(key: string, scope: string, body: Record<string, unknown>, work: () => Promise<{ status: number; body: unknown }>): Promise<{ status: number; body: unknown; holdMs: number }> {
    const stored = this.byKey.get(`${scope}|${key}`);
    const hash = createHash('sha256').update(canonicalJson(body)).digest('hex');
    if (stored) {
      if (stored.hash !== hash) throw new HttpError(409, 'idempotency_conflict', `Idempotency-Key ${key} was used with another body`);
      return { status: stored.status, body: stored.body, holdMs: 0 };
    }
    const attempt = (this.attempts.get(`${scope}|${key}`) ?? 0) + 1;
    this.attempts.set(`${scope}|${key}`, attempt);
    const acquirer = this.acquirers.get(typeof body.acquirer === 'string' ? body.acquirer : '') ?? this.acquirers.values().next().value;
    const profile = acquirer as AcquirerProfile;
    const roll = seeded(this.options.seed, `fault:${scope}:${key}:${attempt}`);
    const [low, high] = profile.latencyMs;
    await this.sleep(low + Math.floor(seeded(this.options.seed, `latency:${scope}:${key}:${attempt}`) * (high - low + 1)));
    if (scope === 'create' && roll < profile.serverError) throw new HttpError(502, 'acquirer_unavailable', `acquirer ${profile.name} answered 502`);
    const answer = await work();
    if (answer.status < 500) this.byKey.set(`${scope}|${key}`, { hash, status: answer.status, body: answer.body });
    const timedOut = scope === 'create' && roll < profile.serverError + profile.timeout;
    return { ...answer, holdMs: timedOut ? (this.options.timeoutHoldMs ?? 20_000) : 0 };
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async authorize(body: Record<string, unknown>, key: string): Promise<{ status: number; body: unknown }> {
    const token = this.tokens.get(typeof body.token === 'string' ? body.token : '');
    if (!token) throw new HttpError(400, 'invalid_token', 'unknown token');
    const amount = typeof body.amount === 'string' && /^[1-9]\d{0,29}$/.test(body.amount) ? BigInt(body.amount) : undefined;
    if (amount === undefined) throw new HttpError(400, 'invalid_amount', 'amount must be a positive integer string');
    if (typeof body.currency !== 'string' || !/^[A-Z]{3}$/.test(body.currency)) throw new HttpError(400, 'invalid_currency', 'currency must be an ISO 4217 code');
    const profile = this.acquirers.get(typeof body.acquirer === 'string' ? body.acquirer : '');
    if (!profile) throw new HttpError(400, 'invalid_acquirer', `acquirer must be one of ${[...this.acquirers.keys()].join(', ')}`);
    const payment: StoredPayment = {
      id: this.nextId('pay'),
      object: 'payment',
      reference: typeof body.reference === 'string' ? body.reference.slice(0, 200) : '',
      idempotency_key: key,
      acquirer: profile.name,
      amount: amount.toString(),
      currency: body.currency,
      status: 'authorized',
      decline: null,
      amount_authorized: '0',
      amount_captured: '0',
      amount_refunded: '0',
      fee: '0',
      refunds: [],
      sequence: 0,
      last4: token.last4,
      capture: body.capture === true,
      token: token.id,
    };
    this.payments.set(payment.id, payment);
    const behaviour = cardBehaviour(token.number);
    const attempt = this.attempts.get(`create|${key}`) ?? 1;
    const softRoll = seeded(this.options.seed, `soft:${key}:${attempt}`);
    if (behaviour.kind === 'decline' && (behaviour.onlyAcquirer === undefined || behaviour.onlyAcquirer === profile.name)) {
      payment.status = 'declined';
      payment.decline = { code: behaviour.code, soft: behaviour.soft };
    } else if (behaviour.kind !== 'requires_action' && softRoll < profile.softDecline) {
      payment.status = 'declined';
      payment.decline = { code: 'try_again_later', soft: true };
    } else if (behaviour.kind === 'requires_action') {
      payment.status = 'requires_action';
    } else {
      payment.amount_authorized = payment.amount;
      if (payment.capture) this.applyCapture(payment, amount);
    }
    this.emit(payment, `payment.${payment.status}`);
    return { status: 200, body: this.view(payment) };
  }

  private authenticate(payment: StoredPayment, body: Record<string, unknown>): PspPayment {
    if (payment.status !== 'requires_action') throw new HttpError(409, 'invalid_state', `payment is ${payment.status}`);
    if (body.outcome === 'fail') {
      payment.status = 'declined';
      payment.decline = { code: 'authentication_failed', soft: false };
    } else {
      payment.amount_authorized = payment.amount;
      payment.status = 'authorized';
      if (payment.capture) this.applyCapture(payment, BigInt(payment.amount));
    }
    this.emit(payment, `payment.${payment.status}`);
    return this.view(payment);
  }

  private applyCapture(payment: StoredPayment, amount: bigint): void {
    const profile = this.acquirers.get(payment.acquirer) as AcquirerProfile;
    payment.amount_captured = amount.toString();
    payment.fee = feeFor(profile, amount).toString();
    payment.status = 'captured';
  }

  private async capture(payment: StoredPayment, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    if (payment.status !== 'authorized') throw new HttpError(409, 'invalid_state', `payment is ${payment.status}; only an authorized payment can be captured, once`);
    const amount = typeof body.amount === 'string' && /^[1-9]\d{0,29}$/.test(body.amount) ? BigInt(body.amount) : BigInt(payment.amount_authorized);
    if (amount > BigInt(payment.amount_authorized)) throw new HttpError(400, 'amount_too_large', 'capture above the authorized amount');
    this.applyCapture(payment, amount);
    this.emit(payment, 'payment.captured');
    return { status: 200, body: this.view(payment) };
  }

  private async refund(payment: StoredPayment, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    const amount = typeof body.amount === 'string' && /^[1-9]\d{0,29}$/.test(body.amount) ? BigInt(body.amount) : undefined;
    if (amount === undefined) throw new HttpError(400, 'invalid_amount', 'amount must be a positive integer string');
    if (payment.status !== 'captured' && payment.status !== 'partially_refunded') throw new HttpError(409, 'invalid_state', `payment is ${payment.status}`);
    if (BigInt(payment.amount_refunded) + amount > BigInt(payment.amount_captured)) throw new HttpError(400, 'amount_too_large', 'refunds above the captured amount');
    payment.refunds.push({ id: this.nextId('re'), reference: typeof body.reference === 'string' ? body.reference.slice(0, 200) : '', amount: amount.toString(), status: 'succeeded' });
    payment.amount_refunded = (BigInt(payment.amount_refunded) + amount).toString();
    payment.status = payment.amount_refunded === payment.amount_captured ? 'refunded' : 'partially_refunded';
    this.emit(payment, 'payment.refunded');
    return { status: 200, body: this.view(payment) };
  }

  private async cancel(payment: StoredPayment): Promise<{ status: number; body: unknown }> {
    if (payment.status !== 'authorized' && payment.status !== 'requires_action') throw new HttpError(409, 'invalid_state', `payment is ${payment.status}`);
    payment.status = 'canceled';
    this.emit(payment, 'payment.canceled');
    return { status: 200, body: this.view(payment) };
  }

  private emit(payment: StoredPayment, type: string): void {
    payment.sequence += 1;
    const event: PspEvent = { id: this.nextId('evt'), number: this.events.length + 1, type, sequence: payment.sequence, created: Date.now(), data: this.view(payment) };
    this.events.push(event);
    const faults = webhookFaults[this.options.faults];
    for (const url of this.endpoints) {
      const copies = seeded(this.options.seed, `dup:${event.number}`) < faults.duplicate ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        const delay = Math.floor(seeded(this.options.seed, `delay:${event.number}:${copy}`) * faults.maxDelayMs);
        this.deliver(url, event, delay, 1);
      }
    }
  }

  /** Delivers one signed webhook after `delayMs`, retrying a failed delivery a few times with backoff. */
  private deliver(url: string, event: PspEvent, delayMs: number, attempt: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const body = JSON.stringify(event);
      const signature = signPayload(this.options.webhookSecret, Math.floor(Date.now() / 1000), body);
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'psp-signature': signature }, body, signal: AbortSignal.timeout(5_000) })
        .then((response) => {
          if (!response.ok && attempt < 5) this.deliver(url, event, 200 * 2 ** attempt, attempt + 1);
        })
        .catch(() => {
          if (attempt < 5) this.deliver(url, event, 200 * 2 ** attempt, attempt + 1);
        });
    }, delayMs);
    this.timers.add(timer);
  }

  private listEvents(after: number, limit: number): { events: PspEvent[]; last: number } {
    const bounded = Math.max(1, Math.min(Number.isFinite(limit) ? limit : 100, 500));
    const start = Number.isFinite(after) && after > 0 ? after : 0;
    const events = this.events.slice(start, start + bounded);
    return { events, last: events.at(-1)?.number ?? start };
  }
}
