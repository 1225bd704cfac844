/** Schemas and the card-number guard shared by every payments tool. */
import { z, type ObjectSchema, type ToolInput, type ToolSpec } from 'anvil/plugin';
import { refuseCardNumbers } from '../pan.ts';
import { LEDGER_LIMITS } from '../ledger/ledger.ts';
import { ACCOUNT_FLAGS, ACCOUNT_KINDS, TRANSFER_KINDS, TRANSFER_STATES } from '../ledger/rows.ts';

export const amountSchema = z.string().max(40).describe('Integer minor units as a string (EUR 10.50 is "1050", JPY 500 is "500"); never a float');
export const currencySchema = z.string().max(8).describe('ISO 4217 code, e.g. "EUR"');
export const accountCodeSchema = z
  .string()
  .min(1)
  .max(LEDGER_LIMITS.codeMaxChars)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, "letters, digits, '.', '_', ':', '/' or '-', starting with a letter or digit")
  .describe('The account code, unique in the project (e.g. "cash.eur")');
export const idempotencyKeySchema = z.string().min(1).max(LEDGER_LIMITS.keyMaxChars).describe('Retrying with the same key and body returns the first result; another body with it is a conflict');
export const metadataSchema = z.record(z.string().max(100), z.unknown()).describe('Free-form JSON (at most 8 KiB); never card numbers');

export const accountSchema = z.object({
  id: z.string(),
  code: z.string(),
  kind: z.enum(ACCOUNT_KINDS),
  currency: z.string(),
  flags: z.array(z.enum(ACCOUNT_FLAGS)),
  debitsPending: z.string(),
  debitsPosted: z.string(),
  creditsPending: z.string(),
  creditsPosted: z.string(),
  balance: z.string().describe('Posted balance in the normal direction of the account kind'),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export const transferSchema = z.object({
  id: z.string(),
  kind: z.enum(TRANSFER_KINDS),
  debit: z.string(),
  credit: z.string(),
  amount: z.string(),
  currency: z.string(),
  state: z.enum(TRANSFER_STATES),
  pendingId: z.string().nullable(),
  timeoutAt: z.string().nullable(),
  idempotencyKey: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: z.string(),
  resolvedAt: z.string().nullable(),
});

export const limitSchema = z.number().int().min(1).max(LEDGER_LIMITS.listMax).optional().describe('Page size (default 50)');

/**
 * A payments tool whose input is scanned for card numbers before its handler runs: a call carrying
 * one is refused naming the field, before anything is stored, logged or sent anywhere.
 */
export function guarded<I extends ToolInput, O extends ObjectSchema | undefined>(spec: ToolSpec<I, O>): ToolSpec<I, O> {
  return {
    ...spec,
    handler: (input, context) => {
      refuseCardNumbers(input);
      return spec.handler(input, context);
    },
  };
}
