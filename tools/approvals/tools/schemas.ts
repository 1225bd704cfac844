import { z } from 'anvil/plugin';

export const approvalSchema = z.object({
  id: z.string(),
  kind: z.string(),
  subject: z.string(),
  hash: z.string(),
  state: z.enum(['pending', 'approved', 'denied']),
  summary: z.record(z.string(), z.unknown()),
  requestedBy: z.string(),
  decidedBy: z.string().nullable(),
  reason: z.string().nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
});
