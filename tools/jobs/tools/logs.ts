import { z, type ToolSpec } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';
import { LIMITS } from '../store.ts';

export const LOG_BYTES_DEFAULT = 16_384;
export const LOG_BYTES_MAX = 262_144;

const input = z
  .object({
    id: z.string().describe('Job id'),
    tail: z.number().int().min(1).max(LIMITS.logPageLinesMax).optional().describe('The newest N lines (that fit maxBytes) instead of reading from afterSeq'),
    afterSeq: z.number().int().min(0).optional().describe('Lines after this seq, oldest first (default 0: from the start)'),
    maxBytes: z.number().int().min(1).max(LOG_BYTES_MAX).optional().describe(`Budget for the message text (default ${LOG_BYTES_DEFAULT})`),
  })
  .strict();

const output = z.object({
  id: z.string(),
  lines: z.array(z.object({ seq: z.number().int(), at: z.string(), level: z.enum(['debug', 'info', 'warn', 'error']), message: z.string(), cut: z.boolean().optional() })),
  nextSeq: z.number().int().describe('Pass as afterSeq to read on'),
  lastSeq: z.number().int().describe('How many lines the job had when read'),
  truncated: z.boolean().describe('Lines were left out (after this page, or before it for a tail read)'),
  hint: z.string(),
});

export function logsTool(jobs: () => JobsRuntime): ToolSpec<typeof input, typeof output> {
  return {
    name: 'jobs_logs',
    title: 'Read a job’s log',
    description:
      'A page of a job’s log within a byte budget (never the whole log): from afterSeq on, or the newest `tail` lines. Read on with afterSeq = nextSeq.',
    input,
    output,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scopes: ['jobs:read'],
    async handler({ id, tail, afterSeq, maxBytes }, { project }) {
      const page = await jobs().service.store.logs(project, id, {
        ...(tail === undefined ? {} : { tail }),
        ...(afterSeq === undefined ? {} : { afterSeq }),
        maxBytes: maxBytes ?? LOG_BYTES_DEFAULT,
      });
      const more = page.lastSeq > page.nextSeq;
      const hint =
        tail !== undefined
          ? page.truncated
            ? `Showing the newest lines up to ${page.nextSeq} of ${page.lastSeq}; earlier lines: call again with afterSeq (e.g. 0) and no tail.`
            : `The whole log so far (${page.lastSeq} lines); new lines: call again with afterSeq ${page.nextSeq}.`
          : more
            ? `${page.lastSeq - page.nextSeq} more lines: call again with afterSeq ${page.nextSeq}.`
            : `No more lines yet; new ones arrive after seq ${page.nextSeq} (call again with afterSeq ${page.nextSeq}).`;
      return {
        id,
        lines: page.lines.map((line) => ({ seq: line.seq, at: line.at.toISOString(), level: line.level, message: line.message, ...(line.cut ? { cut: true } : {}) })),
        nextSeq: page.nextSeq,
        lastSeq: page.lastSeq,
        truncated: page.truncated,
        hint,
      };
    },
  };
}
