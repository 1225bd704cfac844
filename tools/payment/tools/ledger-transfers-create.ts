import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { LEDGER_LIMITS, type Ledger, type TransferInput } from '../ledger/ledger.ts';
import { accountCodeSchema, amountSchema, currencySchema, guarded, idempotencyKeySchema, metadataSchema, transferSchema } from './common.ts';

const transferInput = z
  .object({
    debit: accountCodeSchema,
    credit: accountCodeSchema,
    amount: amountSchema,
    currency: currencySchema,
    idempotencyKey: idempotencyKeySchema,
    metadata: metadataSchema.optional(),
    pending: z
      .object({ timeoutSeconds: z.number().int().min(1).max(LEDGER_LIMITS.timeoutMaxSeconds).optional().describe('Voided automatically after this long (default: never)') })
      .strict()
      .optional()
      .describe('Two-phase: reserve the amount now; post or void it later with ledger_transfers_create {post|void}'),
  })
  .strict();

const input = z
  .object({
    transfer: transferInput.optional().describe('One transfer'),
    transfers: z.array(transferInput).min(1).max(LEDGER_LIMITS.batchMax).optional().describe('A batch, applied all or nothing'),
    post: z
      .object({ pendingId: z.string().uuid(), amount: amountSchema.optional().describe('Default: the whole pending amount; the rest is released'), idempotencyKey: idempotencyKeySchema, metadata: metadataSchema.optional() })
      .strict()
      .optional()
      .describe('Post a pending transfer'),
    void: z.object({ pendingId: z.string().uuid(), idempotencyKey: idempotencyKeySchema, metadata: metadataSchema.optional() }).strict().optional().describe('Void a pending transfer'),
  })
  .strict();

const output = z.object({ transfers: z.array(transferSchema.extend({ created: z.boolean() })) });

export function ledgerTransfersCreateTool(ledger: () => Ledger): ToolSpec<typeof input, typeof output> {
  return guarded({
    name: 'ledger_transfers_create',
    title: 'Create ledger transfers',
    description:
      'Moves an amount (integer minor units as a string) from a debit to a credit account of the same currency. Give exactly one of: `transfer`, ' +
      '`transfers` (a batch, all or nothing), `post` or `void` (resolve a two-phase pending transfer). Each transfer has an idempotency key: ' +
      'the same key and body returns the first result (created: false), another body is a conflict naming the key. A transfer that would break an account flag fails whole.',
    input,
    output,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: ['ledger:write'],
    async handler(args, { project, principal, audit }) {
      const given = (['transfer', 'transfers', 'post', 'void'] as const).filter((field) => args[field] !== undefined);
      if (given.length !== 1) {
        throw new AnvilError(ErrorCodes.INVALID_INPUT, `(arguments): give exactly one of transfer, transfers, post or void${given.length ? `; got ${given.join(' and ')}` : ''}`);
      }
      const service = ledger();
      if (args.post || args.void) {
        const action = args.post ? 'post' : 'void';
        const resolve = (args.post ?? args.void) as { pendingId: string; amount?: string; idempotencyKey: string; metadata?: Record<string, unknown> };
        const result = await service.resolvePending(project, { ...resolve, action }, principal.id);
        audit({ action, pendingId: resolve.pendingId, transferId: result.transfer.id, created: result.created });
        return { transfers: [{ ...result.transfer, created: result.created }] };
      }
      const batch: TransferInput[] = args.transfers ?? [args.transfer as TransferInput];
      const results = await service.createTransfers(project, batch, principal.id);
      audit({ transfers: results.length, created: results.filter((each) => each.created).length });
      return { transfers: results.map((each) => ({ ...each.transfer, created: each.created })) };
    },
  });
}
