export { loadSql } from 'anvil/plugin';

/** Postgres error codes the plugin acts on. */
export const PgCodes = { uniqueViolation: '23505', checkViolation: '23514', notNullViolation: '23502', deadlock: '40P01', serialization: '40001', numericOutOfRange: '22003', keyReused: 'PA409', pendingUnavailable: 'PA404', abovePending: 'PA422' } as const;

export function pgError(error: unknown): { code?: string; constraint?: string } {
  return typeof error === 'object' && error !== null ? (error as { code?: string; constraint?: string }) : {};
}
