/**
 * Everything the payments tools share, built once at register: the ledger, intents, providers.
 * Mandates, previews and risk join the confirm path here.
 */
import { AnvilError, ErrorCodes, type CallerPrincipal, type Logger, type PluginSql } from 'anvil/plugin';
import type { Ledger } from './ledger/ledger.ts';
import type { CreateIntentInput, IntentService } from './intents/service.ts';
import type { Intent } from './intents/rows.ts';
import { toIntent } from './intents/rows.ts';
import { reconcile, type ReconcileReport } from './intents/reconcile.ts';
import type { PaymentProvider } from './providers/types.ts';

export interface PaymentsRuntimeDeps {
  sql: PluginSql;
  ledger: Ledger;
  intents: IntentService;
  providers: () => ReadonlyMap<string, PaymentProvider>;
  log: Logger;
}

export interface ConfirmContext {
  project: string;
  principal: CallerPrincipal;
}

export class PaymentsRuntime {
  readonly ledger: Ledger;
  readonly intents: IntentService;
  constructor(private readonly deps: PaymentsRuntimeDeps) {
    this.ledger = deps.ledger;
    this.intents = deps.intents;
  }

  providers(): ReadonlyMap<string, PaymentProvider> {
    return this.deps.providers();
  }

  async createPayment(project: string, principal: CallerPrincipal, input: CreateIntentInput): Promise<{ intent: Intent; created: boolean }> {
    return this.intents.create(project, input, principal.id);
  }

  async confirmPayment(context: ConfirmContext, id: string, previewHash: string | undefined): Promise<Intent> {
    const row = await this.intents.row(context.project, id);
    if (previewHash !== undefined && row.status === 'requires_confirmation') {
      throw new AnvilError(ErrorCodes.INVALID_INPUT, 'previewHash: no preview was made for this payment; call payments_preview first', { details: { field: 'previewHash', reason: 'preview_missing' } });
    }
    if (row.status !== 'requires_confirmation') return toIntent(row);
    return this.intents.confirm(context.project, id);
  }

  async reconcile(project: string, only?: string): Promise<ReconcileReport[]> {
    const providers = this.deps.providers();
    if (only !== undefined && !providers.has(only)) throw new AnvilError(ErrorCodes.NOT_FOUND, `provider: no payment provider "${only}" is configured`, { details: { field: 'provider' } });
    const reports: ReconcileReport[] = [];
    for (const [name, provider] of providers) if (only === undefined || only === name) reports.push(await reconcile(this.deps.sql, this.ledger, project, name, provider));
    return reports;
  }
}
