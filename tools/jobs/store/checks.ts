/**
 * What every part of the job store shares: its limits, its error shapes and the checks of inputs
 * that name a project, a worker or a reason. Anything refused here never reaches SQL.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import type { JobError } from '../rows.ts';
import { invalid, jsonText, plainObject, text } from '../validate.ts';

export const LIMITS = {
  listDefault: 20,
  listMax: 100,
  maxAttemptsDefault: 3,
  maxAttemptsMax: 100,
  priorityMin: -1_000_000,
  priorityMax: 1_000_000,
  dependsOnMax: 100,
  /** params, checkpoint, result and error, each as JSON. */
  jsonBytesMax: 1_048_576,
  /** A longer log line is cut (and ends with …) when appended. */
  logLineBytesMax: 16_384,
  logBatchMax: 10_000,
  logPageLinesMax: 1_000,
  logPageBytesDefault: 16_384,
  logPageBytesMax: 1_048_576,
  metricBatchMax: 10_000,
  leaseMsMax: 86_400_000,
  timeoutMsDefault: 86_400_000,
  timeoutMsMax: 7 * 86_400_000,
  slotsMax: 256,
  recipesMax: 1_000,
} as const;

export const NAME_MAX = 200;
const REASON_MAX = 1_000;

export function notFound(jobId: string, project?: string): AnvilError {
  return new AnvilError(ErrorCodes.NOT_FOUND, project === undefined ? `No job ${jobId}` : `No job ${jobId} in project ${project}`, {
    details: { jobId },
  });
}

export function conflict(message: string, details: Record<string, unknown>): AnvilError {
  return new AnvilError(ErrorCodes.CONFLICT, message, { details });
}

export function reasonText(reason: unknown): string {
  return text(reason, 'reason', REASON_MAX);
}

export function project(value: unknown): string {
  return text(value, 'project', NAME_MAX);
}

export function workerId(value: unknown): string {
  return text(value, 'worker id', NAME_MAX);
}

export function jobError(error: JobError | undefined): string | null {
  if (error === undefined) return null;
  const checked = plainObject(error, 'error');
  if (typeof checked.message !== 'string') throw invalid('error.message must be a string');
  return jsonText(checked, 'error', LIMITS.jsonBytesMax);
}

/** A point in time given by a caller (log lines, metric points): a valid Date or nothing. */
export function optionalDate(value: unknown, what: string): void {
  if (value !== undefined && !(value instanceof Date && Number.isFinite(value.getTime()))) throw invalid(`${what} must be a valid Date`);
}
