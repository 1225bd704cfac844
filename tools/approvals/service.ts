/**
 * Approvals a person gives: generic records (kind, subject, hash, state, decided_by). A kind names
 * what asks (payments: "payment", the agent: "agent-step"), the subject what it is about, the hash
 * exactly what is approved: another hash for the same subject is another approval, asked anew.
 * Nobody approves their own request.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnvilError, ErrorCodes, loadSql, type PluginSql } from 'anvil/plugin';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = { upsert: sql('approval-upsert'), get: sql('approval-get'), list: sql('approvals-list'), decide: sql('approval-decide'), ofSubject: sql('approvals-of-subject') } as const;

export type ApprovalState = 'pending' | 'approved' | 'denied';

export interface ApprovalRow extends Record<string, unknown> {
  id: string;
  kind: string;
  subject: string;
  hash: string;
  state: ApprovalState;
  summary: Record<string, unknown>;
  requested_by: string;
  decided_by: string | null;
  reason: string | null;
  created_at: Date | string;
  decided_at: Date | string | null;
}

export interface Approval {
  id: string;
  kind: string;
  subject: string;
  hash: string;
  state: ApprovalState;
  summary: Record<string, unknown>;
  requestedBy: string;
  decidedBy: string | null;
  reason: string | null;
  createdAt: string;
  decidedAt: string | null;
}

export interface ApprovalRequest {
  project: string;
  /** What asks: `payment`, `agent-step`, … */
  kind: string;
  /** What it is about, unique within the kind (a payment id, `<runId>/<stepId>`). */
  subjectId: string;
  /** Shown to the person deciding (never secrets). */
  summary: Record<string, unknown>;
  /** SHA-256 (hex) of exactly what is approved, e.g. the canonical JSON of a step's arguments. */
  argsHash: string;
  /** The principal asking; it can never decide this approval itself. */
  requestedBy: string;
}

export type Decision = 'approve' | 'deny';

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());
const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

export function toApproval(row: ApprovalRow): Approval {
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    hash: row.hash,
    state: row.state,
    summary: row.summary,
    requestedBy: row.requested_by,
    decidedBy: row.decided_by,
    reason: row.reason,
    createdAt: iso(row.created_at),
    decidedAt: row.decided_at === null ? null : iso(row.decided_at),
  };
}

export class Approvals {
  constructor(
    private readonly sql: PluginSql,
    /** Told after every decision (the plugin emits `approvals.decided`). */
    private readonly onDecided: (approval: Approval, project: string) => void = () => {},
  ) {}

  /** The approval for (kind, subject, hash): created pending the first time, the same record after. */
  async request(request: ApprovalRequest): Promise<Approval> {
    if (!/^[0-9a-f]{64}$/.test(request.argsHash)) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'argsHash: expected the SHA-256 of what is approved, 64 lowercase hex digits');
    const row = (
      await this.sql.query<ApprovalRow>(SQL.upsert, [randomUUID(), request.project, request.kind, request.subjectId, request.argsHash, JSON.stringify(request.summary), request.requestedBy])
    ).rows[0] as ApprovalRow;
    return toApproval(row);
  }

  /** The approval with this id in `project`; undefined for an unknown id or another project's. */
  async get(project: string, id: string): Promise<Approval | undefined> {
    if (!isUuid(id)) return undefined;
    const row = (await this.sql.query<ApprovalRow>(SQL.get, [project, id])).rows[0];
    return row ? toApproval(row) : undefined;
  }

  /** Every approval asked for this subject, newest first (one per distinct hash). */
  async ofSubject(project: string, kind: string, subjectId: string): Promise<Approval[]> {
    return (await this.sql.query<ApprovalRow>(SQL.ofSubject, [project, kind, subjectId])).rows.map(toApproval);
  }

  async list(project: string, filter: { state?: ApprovalState; kind?: string; limit: number }): Promise<Approval[]> {
    return (await this.sql.query<ApprovalRow>(SQL.list, [project, filter.state ?? null, filter.kind ?? null, filter.limit])).rows.map(toApproval);
  }

  async decide(project: string, id: string, decision: Decision, by: string, reason?: string): Promise<Approval> {
    const state = decision === 'approve' ? 'approved' : 'denied';
    const existing = await this.get(project, id);
    if (!existing) throw new AnvilError(ErrorCodes.NOT_FOUND, `id: no approval "${id}" in this project`, { details: { field: 'id' } });
    if (existing.requestedBy === by) {
      throw new AnvilError(ErrorCodes.FORBIDDEN, `Approval ${id} was requested by ${by}; another principal must decide it`, { details: { reason: 'self_approval' } });
    }
    const row = (await this.sql.query<ApprovalRow>(SQL.decide, [project, id, state, by, reason ?? null])).rows[0];
    if (row) {
      const decided = toApproval(row);
      this.onDecided(decided, project);
      return decided;
    }
    const now = await this.get(project, id);
    if (now && now.state === state) return now;
    throw new AnvilError(ErrorCodes.CONFLICT, `Approval ${id} was already ${now?.state ?? existing.state} by ${now?.decidedBy ?? 'someone'}`, {
      details: { state: now?.state ?? existing.state, reason: 'already_decided' },
    });
  }

  /** Polls until the approval is decided (or `signal` aborts); resolves with the decided approval. */
  async waitFor(project: string, id: string, options: { signal?: AbortSignal; intervalMs?: number } = {}): Promise<Approval> {
    for (;;) {
      const approval = await this.get(project, id);
      if (!approval) throw new AnvilError(ErrorCodes.NOT_FOUND, `id: no approval "${id}" in this project`, { details: { field: 'id' } });
      if (approval.state !== 'pending') return approval;
      await sleep(options.intervalMs ?? 500, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}
