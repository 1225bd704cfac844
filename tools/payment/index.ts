/**
 * The built-in `payments` plugin: a double-entry ledger (ledger_*), payment intents through
 * provider plugins (payments_*), mandates for agents, routing and risk. See docs/payments.md.
 * It reaches Anvil only through `anvil/plugin`; providers come through the `paymentProviders`
 * extension point (e.g. the `payments-sandbox` plugin, tools/payment/providers/plugin.ts).
 */
import { definePlugin } from 'anvil/plugin';
import { datasetsPlugin } from '../datasets/index.ts';
import { deploymentsPlugin } from '../deployment/index.ts';
import { Booking } from './intents/booking.ts';
import { IntentService } from './intents/service.ts';
import { Ledger } from './ledger/ledger.ts';
import type { PaymentProvider } from './providers/types.ts';
import './providers/types.ts';
import { ConnectorDirectory } from './routing/connectors.ts';
import { approvalsPlugin } from '../approvals/index.ts';
import { MandateService } from './mandates/service.ts';
import { RoutingService } from './routing/service.ts';
import { RiskService } from './risk/service.ts';
import { trainRiskModel } from './risk/train.ts';
import { PaymentsRuntime } from './runtime.ts';
import { mandatesCreateTool } from './tools/mandates-create.ts';
import { mandatesGetTool } from './tools/mandates-get.ts';
import { mandatesListTool } from './tools/mandates-list.ts';
import { mandatesRevokeTool } from './tools/mandates-revoke.ts';
import { paymentsPreviewTool } from './tools/payments-preview.ts';
import { paymentsRiskConfigureTool } from './tools/payments-risk-configure.ts';
import { paymentsRiskTrainTool } from './tools/payments-risk-train.ts';
import { riskScoreTool } from './tools/risk-score.ts';
import { routingConfigureTool } from './tools/routing-configure.ts';
import { routingEvaluateTool } from './tools/routing-evaluate.ts';
import { routingExplainTool } from './tools/routing-explain.ts';
import { ledgerAccountsCreateTool } from './tools/ledger-accounts-create.ts';
import { ledgerAccountsGetTool } from './tools/ledger-accounts-get.ts';
import { ledgerAccountsListTool } from './tools/ledger-accounts-list.ts';
import { ledgerBalancesTool } from './tools/ledger-balances.ts';
import { ledgerTransfersCreateTool } from './tools/ledger-transfers-create.ts';
import { ledgerTransfersGetTool } from './tools/ledger-transfers-get.ts';
import { ledgerTransfersListTool } from './tools/ledger-transfers-list.ts';
import { paymentsCancelTool } from './tools/payments-cancel.ts';
import { paymentsCaptureTool } from './tools/payments-capture.ts';
import { paymentsConfirmTool } from './tools/payments-confirm.ts';
import { paymentsCreateTool } from './tools/payments-create.ts';
import { paymentsGetTool } from './tools/payments-get.ts';
import { paymentsListTool } from './tools/payments-list.ts';
import { paymentsReconcileTool } from './tools/payments-reconcile.ts';
import { paymentsRefundTool } from './tools/payments-refund.ts';
import { webhookRoute } from './webhooks.ts';

export { Ledger } from './ledger/ledger.ts';
export { sandboxProviderPlugin } from './providers/plugin.ts';
export { SandboxPsp } from './sandbox/psp.ts';
export type { FaultLevel } from './sandbox/behaviour.ts';
export type { PaymentProvider, ProviderPayment, ProviderEvent } from './providers/types.ts';
export type { PaymentsRuntime } from './runtime.ts';
export { generateHistory, historyCsv, type HistoryRow } from './risk/history.ts';

export const paymentsMigrations = new URL('./migrations/', import.meta.url);

/** Intents left processing (lost answer, crash) are looked at again after this long. */
const RESUME_AFTER_SECONDS = 5;

export const paymentsPlugin = definePlugin({
  id: 'payments',
  version: '0.1.0',
  apiVersion: 1,
  description: 'Double-entry ledger, payment intents through provider plugins, spending mandates for agents, routing and risk',
  // Risk scoring serves its model through the deployments plugin; training imports its history as a
  // dataset; approvals (mandates, risk review) belong to the approvals plugin.
  requires: { plugins: { deployments: '*', datasets: '*', approvals: '^0.1.0' } },
  // tools: payments_risk_train runs training_start, jobs_get and deployments_* on the caller's behalf.
  permissions: ['sql', 'network', 'subprocess', 'tools'],
  register(ctx) {
    ctx.migrations(paymentsMigrations);
    // Read at call time: provider plugins may register after this one.
    const providers = (): ReadonlyMap<string, PaymentProvider> => ctx.extensions('paymentProviders');
    const ledgerService = new Ledger(ctx.sql, { callsInFlight: ctx.host.storage === 'postgres' ? 2 : 1 });
    const directory = new ConnectorDirectory(providers, ctx.log);
    const routing = new RoutingService(ctx.sql, directory);
    const intents = new IntentService({ sql: ctx.sql, booking: new Booking(ledgerService), providers, router: routing, log: ctx.log });
    const mandates = new MandateService(ctx.sql);
    const deployments = ctx.use(deploymentsPlugin);
    const datasets = ctx.use(datasetsPlugin);
    const predict = deployments.predict;
    const risk = new RiskService(ctx.sql, predict, ctx.log);
    const runtimeValue = new PaymentsRuntime({ sql: ctx.sql, ledger: ledgerService, intents, mandates, approvals: ctx.use(approvalsPlugin).approvals, routing, directory, risk, providers, log: ctx.log });
    const ledger = () => ledgerService;
    const runtime = () => runtimeValue;

    ctx.tool(ledgerAccountsCreateTool(ledger));
    ctx.tool(ledgerAccountsGetTool(ledger));
    ctx.tool(ledgerAccountsListTool(ledger));
    ctx.tool(ledgerTransfersCreateTool(ledger));
    ctx.tool(ledgerTransfersGetTool(ledger));
    ctx.tool(ledgerTransfersListTool(ledger));
    ctx.tool(ledgerBalancesTool(ledger));
    ctx.tool(paymentsCreateTool(runtime));
    ctx.tool(paymentsConfirmTool(runtime));
    ctx.tool(paymentsCaptureTool(runtime));
    ctx.tool(paymentsCancelTool(runtime));
    ctx.tool(paymentsRefundTool(runtime));
    ctx.tool(paymentsGetTool(runtime));
    ctx.tool(paymentsListTool(runtime));
    ctx.tool(paymentsReconcileTool(runtime));
    ctx.tool(paymentsPreviewTool(runtime));
    ctx.tool(mandatesCreateTool(runtime));
    ctx.tool(mandatesGetTool(runtime));
    ctx.tool(mandatesListTool(runtime));
    ctx.tool(mandatesRevokeTool(runtime));
    ctx.tool(routingConfigureTool(runtime));
    ctx.tool(routingExplainTool(runtime));
    ctx.tool(routingEvaluateTool(runtime));
    ctx.tool(riskScoreTool(runtime));
    ctx.tool(paymentsRiskConfigureTool(runtime));
    ctx.tool(paymentsRiskTrainTool((request) => trainRiskModel({ tools: () => ctx.tools, datasets: datasets.datasets, predict, risk }, request)));
    ctx.route(webhookRoute(providers, () => intents));

    // Two-phase transfers past their timeout release their reservation.
    ctx.every('expire-pending-transfers', 1_000, async () => {
      const expired = await ledgerService.expirePending();
      if (expired > 0) ctx.log.info({ expired }, 'expired pending transfers');
    });
    // Provider events by polling (webhooks push the same events; duplicates are dropped by id).
    ctx.every('provider-events', 1_000, async () => {
      if (providers().size > 0) await intents.pollEvents();
    });
    // Payments a crash or a lost answer left behind are resumed.
    ctx.every('resume-payments', 2_000, async () => {
      if (providers().size > 0) await intents.resume(RESUME_AFTER_SECONDS);
      // Reservations of payments that failed or were canceled go back to their mandate's cap.
      await mandates.releaseSettled();
    });
    return { ledger, payments: runtime };
  },
});
