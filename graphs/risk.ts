/**
 * How much a step can hurt, from what a tool says about itself. One function for every planner
 * (LLM, sampling, offline) so the same tool is never `write` to one planner and `spend` to another;
 * `destructive` and `spend` steps wait for a person's approval.
 */
import type { ToolDescription } from 'anvil/plugin';
import type { StepRisk } from './plan.ts';

/**
 * Tools that move money or grant the authority to: a payment confirmed or captured, a refund, a
 * ledger transfer, a mandate that lets an agent spend. Refunds and cancellations are also
 * `destructiveHint`, but money leaving is what a person must see, so `spend` wins.
 */
export const MONEY_MOVING_TOOLS: ReadonlySet<string> = new Set([
  'payments_create',
  'payments_confirm',
  'payments_capture',
  'payments_refund',
  'ledger_transfers_create',
  'mandates_create',
]);

/** Names of payment-plugin tools that move money even if a later version adds them under a new name. */
const moneyVerbs = /(?:^|_)(?:pay|payout|charge|capture|confirm|refund|transfer|transfers_create)(?:_|$)/;
const moneyPlugins = new Set(['payments', 'ledger']);

export interface RiskOptions {
  /** More tools an operator counts as spending (e.g. a plugin's `billing_topup`). */
  readonly spendTools?: ReadonlySet<string>;
}

/**
 * `read` when the tool says it is read-only; `spend` when it moves money; `destructive` when it says
 * so or says nothing (MCP's default for a tool that is not read-only is destructive, so an
 * unannotated proxied tool waits for approval); `write` otherwise.
 */
export function classifyRisk(tool: Pick<ToolDescription, 'name' | 'pluginId' | 'annotations'>, options: RiskOptions = {}): StepRisk {
  const { readOnlyHint, destructiveHint } = tool.annotations;
  if (readOnlyHint === true) return 'read';
  if (MONEY_MOVING_TOOLS.has(tool.name) || options.spendTools?.has(tool.name)) return 'spend';
  if (moneyPlugins.has(tool.pluginId) && moneyVerbs.test(tool.name)) return 'spend';
  if (destructiveHint === false) return 'write';
  return 'destructive';
}

/** True for the risks that always wait for a person. */
export function needsApproval(risk: StepRisk): boolean {
  return risk === 'destructive' || risk === 'spend';
}
