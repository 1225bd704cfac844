import { z } from 'anvil/plugin';
import { PERIODS } from '../mandates/service.ts';

export const mandateSchema = z.object({
  id: z.string(),
  grantee: z.string(),
  currency: z.string(),
  maxPerPayment: z.string(),
  maxPerPeriod: z.string(),
  period: z.enum(PERIODS),
  payees: z.array(z.string()).nullable(),
  categories: z.array(z.string()).nullable(),
  approvalAbove: z.string().nullable(),
  expiresAt: z.string(),
  state: z.enum(['active', 'revoked', 'expired']),
  usedThisPeriod: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});
