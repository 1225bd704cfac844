/**
 * The built-in `payments` plugin: a double-entry ledger (ledger_*), payment intents through
 * provider plugins (payments_*), mandates for agents, routing and risk. See docs/payments.md.
 * It reaches Anvil only through `anvil/plugin`; providers come through the `paymentProviders`
 * extension point.
 */
import { definePlugin } from 'anvil/plugin';
import { Ledger } from './ledger/ledger.ts';
import { ledgerAccountsCreateTool } from './tools/ledger-accounts-create.ts';
import { ledgerAccountsGetTool } from './tools/ledger-accounts-get.ts';
import { ledgerAccountsListTool } from './tools/ledger-accounts-list.ts';
import { ledgerBalancesTool } from './tools/ledger-balances.ts';
import { ledgerTransfersCreateTool } from './tools/ledger-transfers-create.ts';
import { ledgerTransfersGetTool } from './tools/ledger-transfers-get.ts';
import { ledgerTransfersListTool } from './tools/ledger-transfers-list.ts';

export { Ledger } from './ledger/ledger.ts';

export const paymentsMigrations = new URL('./migrations/', import.meta.url);

export const paymentsPlugin = definePlugin({
  id: 'payments',
  version: '0.1.0',
  apiVersion: 1,
  description: 'Double-entry ledger, payment intents through provider plugins, spending mandates for agents, routing and risk',
  permissions: ['sql', 'network', 'subprocess'],
  register(ctx) {
    ctx.migrations(paymentsMigrations);
    const ledgerService = new Ledger(ctx.sql);
    const ledger = () => ledgerService;

    ctx.tool(ledgerAccountsCreateTool(ledger));
    ctx.tool(ledgerAccountsGetTool(ledger));
    ctx.tool(ledgerAccountsListTool(ledger));
    ctx.tool(ledgerTransfersCreateTool(ledger));
    ctx.tool(ledgerTransfersGetTool(ledger));
    ctx.tool(ledgerTransfersListTool(ledger));
    ctx.tool(ledgerBalancesTool(ledger));

    // Two-phase transfers past their timeout release their reservation.
    ctx.every('expire-pending-transfers', 1_000, async () => {
      const expired = await ledgerService.expirePending();
      if (expired > 0) ctx.log.info({ expired }, 'expired pending transfers');
    });
    return { ledger };
  },
});
