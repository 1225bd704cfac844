/**
 * Approvals a person gives: generic records (kind, subject, hash, state, decided_by) so that a
 * later, general approvals tool can read every kind. Payments use kind "payment", subject the
 * payment id, hash the preview hash: an approval covers exactly what was previewed.
 */
import { randomUUID } from 'node:crypto';
import { AnvilError, ErrorCodes, type PluginSql } from 'anvil/plugin';
import { loadSql } from '../sql.ts';

const sql = (name: string) => loadSql(import.meta.url, `./sql/${name}.sql`);
const SQL = { upsert: sql('approval-upsert'), get: sql('approval-get'), list: sql('approvals-list'), decide: sql('approval-decide') } as const;

export interface ApprovalRow extends Record<string, unknown> {
  id: string;
  kind: string;
  subject: string;
  hash: string;
  state: 'pending' | 'approved' | 'denied';
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
  state: ApprovalRow['state'];
  summary: Record<string, unknown>;
  requestedBy: string;
  decidedBy: string | null;
  reason: string | null;
  createdAt: string;
  decidedAt: string | null;
}

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());

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
  constructor(private readonly sql: PluginSql) {}

  /** The approval for (kind, subject, hash): created pending the first time, the same record after. */
  async request(project: string, kind: string, subject: string, hash: string, summary: Record<string, unknown>, by: string): Promise<Approval> {
    const row = (await this.sql.query<ApprovalRow>(SQL.upsert, [randomUUID(), project, kind, subject, hash, JSON.stringify(summary), by])).rows[0] as ApprovalRow;
    return toApproval(row);
  }

  async list(project: string, filter: { state?: ApprovalRow['state']; kind?: string; limit: number }): Promise<Approval[]> {
    return (await this.sql.query<ApprovalRow>(SQL.list, [project, filter.state ?? null, filter.kind ?? null, filter.limit])).rows.map(toApproval);
  }

  async decide(project: string, id: string, decision: 'approve' | 'deny', by: string, reason?: string): Promise<Approval> {
    const state = decision === 'approve' ? 'approved' : 'denied';
    const pending = /^[0-9a-f-]{36}$/i.test(id) ? (await this.sql.query<ApprovalRow>(SQL.get, [project, id])).rows[0] : undefined;
    if (pending && pending.requested_by === by) {
      throw new AnvilError(ErrorCodes.FORBIDDEN, `Approval ${id} was requested by ${by}; another principal must decide it`, { details: { reason: 'self_approval' } });
    }
    const row = /^[0-9a-f-]{36}$/i.test(id) ? (await this.sql.query<ApprovalRow>(SQL.decide, [project, id, state, by, reason ?? null])).rows[0] : undefined;
    if (row) return toApproval(row);
    const existing = /^[0-9a-f-]{36}$/i.test(id) ? (await this.sql.query<ApprovalRow>(SQL.get, [project, id])).rows[0] : undefined;
    if (!existing) throw new AnvilError(ErrorCodes.NOT_FOUND, `id: no approval "${id}" in this project`, { details: { field: 'id' } });
    if (existing.state === state) return toApproval(existing);
    throw new AnvilError(ErrorCodes.CONFLICT, `Approval ${id} was already ${existing.state} by ${existing.decided_by ?? 'someone'}`, { details: { state: existing.state, reason: 'already_decided' } });
  }
}
