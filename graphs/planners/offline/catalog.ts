/**
 * Plan templates: what each intent of the offline planner does, as steps over Anvil's real tools
 * (names and argument shapes as their zod input schemas take them) with the risk a person sees.
 * An intent added to data/phrasings.ts needs a template here; `npm run agent:train-planner` retrains.
 */
import { randomUUID } from 'node:crypto';
import type { ArgValue, StepRef, StepRisk } from '../../plan.ts';

/** Slot values after extraction, memory and resolution; a job may be an earlier step's result. */
export interface Slots {
  job?: string | StepRef;
  model?: string;
  version?: number;
  versions?: readonly number[];
  dataset?: string;
  deployment?: string;
  kb?: string;
  percent?: number;
  duration?: number;
  amount?: string;
  currency?: string;
  payment?: string;
  mandate?: string;
  approval?: string;
  path?: string;
  query?: string;
  payee?: string;
  state?: string;
  alias?: string;
  decision?: 'approve' | 'deny';
  period?: 'day' | 'week' | 'month' | 'total';
  /** The candidate version as an earlier step's result (a conditional rollout after a comparison). */
  candidateRef?: StepRef;
}

export type SlotKey = keyof Omit<Slots, 'versions' | 'candidateRef' | 'period'>;
export type EntityKind = 'job' | 'model' | 'dataset' | 'deployment' | 'kb' | 'payment' | 'mandate' | 'approval';

export interface Template {
  readonly tool: string;
  readonly risk: StepRisk;
  /** Slots the step cannot do without; missing ones become unresolved slots. */
  readonly requires: readonly SlotKey[];
  /** Slots the step uses when given (reported with the plan). */
  readonly uses: readonly SlotKey[];
  /** The entity "it" / a bare name means for this intent. */
  readonly primary?: EntityKind;
  /** Long work (a job): later steps wait for it. */
  readonly startsJob?: boolean;
  readonly why: (s: Slots) => string;
  readonly args: (s: Slots) => { [key: string]: ArgValue };
}

const defined = (entries: Record<string, ArgValue | undefined>): { [key: string]: ArgValue } =>
  Object.fromEntries(Object.entries(entries).filter((entry): entry is [string, ArgValue] => entry[1] !== undefined));
const jobLabel = (job: Slots['job']): string => (typeof job === 'string' ? job : 'the job started above');
const periodOf = (s: Slots): string => s.period ?? (s.duration === undefined ? 'month' : s.duration <= 86_400 ? 'day' : s.duration <= 604_800 ? 'week' : 'month');
const rolloutSteps = (s: Slots): ArgValue => [
  s.duration !== undefined ? { percent: s.percent ?? 10, pauseSeconds: s.duration } : { percent: s.percent ?? 10, untilApproved: true },
  { percent: 100, untilApproved: true },
];
const jobArgs = (s: Slots): { [key: string]: ArgValue } => ({ id: s.job ?? '' });

const read = (tool: string, uses: readonly SlotKey[], why: (s: Slots) => string, args: (s: Slots) => { [key: string]: ArgValue }, extra: Partial<Template> = {}): Template => ({
  tool, risk: 'read', requires: [], uses, why, args, ...extra,
});

export const TEMPLATES: Readonly<Record<string, Template>> = {
  jobs_list: read('jobs_list', ['state'], (s) => `list ${s.state ?? 'recent'} jobs`, (s) => defined({ states: s.state ? [s.state] : undefined, limit: 20 })),
  job_status: read('jobs_get', ['job'], (s) => `look at ${jobLabel(s.job)}`, jobArgs, { requires: ['job'], primary: 'job' }),
  job_logs: read('jobs_logs', ['job'], (s) => `the last log lines of ${jobLabel(s.job)}`, (s) => ({ id: s.job ?? '', tail: 100 }), { requires: ['job'], primary: 'job' }),
  job_metrics: read('jobs_metrics', ['job'], (s) => `the metrics of ${jobLabel(s.job)}`, jobArgs, { requires: ['job'], primary: 'job' }),
  job_cancel: { tool: 'jobs_cancel', risk: 'destructive', requires: ['job'], uses: ['job'], primary: 'job', why: (s) => `cancel ${jobLabel(s.job)}`, args: jobArgs },
  job_explain: read('jobs_explain', ['job'], (s) => `why ${jobLabel(s.job)} is where it is`, jobArgs, { requires: ['job'], primary: 'job' }),
  jobs_quota: read('jobs_quota', [], () => "the project's job quota", () => ({})),
  workers_list: read('workers_list', [], () => 'the workers and their state', () => ({})),
  anvil_status: read('anvil_status', [], () => "the server's health", () => ({})),
  whoami: read('anvil_whoami', [], () => 'who this key is and what it may do', () => ({})),
  plugins_list: read('anvil_plugins_list', [], () => 'the plugins and whether they are enabled', () => ({})),

  train_model: {
    tool: 'training_start', risk: 'write', requires: ['dataset'], uses: ['model', 'dataset'], primary: 'model', startsJob: true,
    why: (s) => `train ${s.model ? `a new version of ${s.model}` : 'a model'} on ${s.dataset ?? 'the dataset'}`,
    args: (s) => defined({ dataset: s.dataset ?? '', model: s.model }),
  },
  eval_run: {
    tool: 'eval_run', risk: 'write', requires: ['model', 'dataset'], uses: ['model', 'version', 'dataset'], primary: 'model', startsJob: true,
    why: (s) => `score ${s.model ?? 'the model'} on ${s.dataset ?? 'its dataset'}`,
    args: (s) => defined({ model: s.model ?? '', version: s.version, dataset: s.dataset ?? '' }),
  },
  eval_compare: {
    tool: 'eval_compare', risk: 'write', requires: ['model', 'dataset'], uses: ['model', 'version', 'dataset'], primary: 'model', startsJob: true,
    why: (s) => `compare ${s.model ?? 'the candidate'} with its champion on ${s.dataset ?? 'the dataset'}`,
    args: (s) => defined({ candidate: defined({ model: s.model ?? '', version: s.version }), dataset: s.dataset ?? '' }),
  },
  eval_get: read('eval_get', ['job'], (s) => `the evaluation ${jobLabel(s.job)}`, jobArgs, { requires: ['job'], primary: 'job' }),
  eval_list: read('eval_list', ['model', 'version'], (s) => `the evaluations of ${s.model ?? 'the model'}`, (s) => defined({ model: s.model ?? '', version: s.version }), { requires: ['model'], primary: 'model' }),
  models_list: read('models_list', ['model'], () => 'the registered models', (s) => defined({ name: s.model })),
  model_get: read('models_get', ['model', 'version'], (s) => `the registry entry of ${s.model ?? 'the model'}`, (s) => defined({ name: s.model ?? '', version: s.version }), { requires: ['model'], primary: 'model' }),
  model_set_alias: {
    tool: 'models_set_alias', risk: 'destructive', requires: ['model', 'version'], uses: ['model', 'version', 'alias'], primary: 'model',
    why: (s) => `point ${s.model ?? 'the model'}'s "${s.alias ?? 'champion'}" alias at v${s.version ?? '?'}`,
    args: (s) => ({ name: s.model ?? '', alias: s.alias ?? 'champion', version: s.version ?? null }),
  },
  alias_history: read('models_alias_history', ['model', 'alias'], (s) => `who moved ${s.model ?? 'the model'}'s aliases, and when`, (s) => defined({ name: s.model ?? '', alias: s.alias }), { requires: ['model'], primary: 'model' }),
  datasets_list: read('datasets_list', ['dataset'], () => 'the datasets', (s) => defined({ name: s.dataset })),
  dataset_get: read('datasets_get', ['dataset', 'version'], (s) => `the dataset ${s.dataset ?? ''}`, (s) => defined({ name: s.dataset ?? '', version: s.version, sampleRows: 5 }), { requires: ['dataset'], primary: 'dataset' }),
  dataset_import: {
    tool: 'datasets_import', risk: 'write', requires: ['dataset', 'path'], uses: ['dataset', 'path'], primary: 'dataset',
    why: (s) => `import ${s.path ?? 'the file'} as ${s.dataset ?? 'a dataset'}`,
    args: (s) => ({ name: s.dataset ?? '', path: s.path ?? '' }),
  },
  deployments_list: read('deployments_list', [], () => 'the deployments', () => ({})),
  deployment_get: read('deployments_get', ['deployment'], (s) => `the deployment ${s.deployment ?? ''}`, (s) => ({ name: s.deployment ?? '' }), { requires: ['deployment'], primary: 'deployment' }),
  deploy_model: {
    tool: 'deployments_create', risk: 'write', requires: ['model'], uses: ['model', 'version', 'deployment'], primary: 'model',
    why: (s) => `serve ${s.model ?? 'the model'}${s.version ? ` v${s.version}` : ''} as ${s.deployment ?? s.model ?? 'a deployment'}`,
    args: (s) => defined({ name: s.deployment ?? s.model ?? '', model: s.model ?? '', version: s.version }),
  },
  set_traffic: {
    tool: 'deployments_set_traffic', risk: 'write', requires: ['deployment', 'version'], uses: ['deployment', 'version', 'percent'], primary: 'deployment',
    why: (s) => `route ${s.percent ?? 100}% of ${s.deployment ?? 'the deployment'}'s traffic to v${s.version ?? '?'}`,
    args: (s) => {
      const [first, second] = s.versions ?? (s.version ? [s.version] : []);
      const percent = s.percent ?? 100;
      const weights: Record<string, number> = {};
      if (first !== undefined) weights[`v${first}`] = percent;
      if (second !== undefined && percent < 100) weights[`v${second}`] = 100 - percent;
      return { name: s.deployment ?? '', weights };
    },
  },
  canary_start: {
    tool: 'deployments_canary', risk: 'write', requires: ['deployment'], uses: ['deployment', 'version', 'percent', 'duration'], primary: 'deployment',
    why: (s) => `start a canary of ${s.version ? `v${s.version}` : 'the candidate'} on ${s.deployment ?? 'the deployment'} at ${s.percent ?? 10}%`,
    args: (s) => ({ name: s.deployment ?? '', action: 'start', candidate: s.candidateRef ?? s.version ?? 'latest', steps: rolloutSteps(s) }),
  },
  canary_approve: {
    tool: 'deployments_canary', risk: 'write', requires: ['deployment'], uses: ['deployment'], primary: 'deployment',
    why: (s) => `approve the waiting canary step of ${s.deployment ?? 'the deployment'}`, args: (s) => ({ name: s.deployment ?? '', action: 'approve' }),
  },
  promote: {
    tool: 'deployments_promote', risk: 'destructive', requires: ['deployment'], uses: ['deployment', 'version'], primary: 'deployment',
    why: (s) => `send all of ${s.deployment ?? 'the deployment'}'s traffic to ${s.version ? `v${s.version}` : 'the candidate'}`,
    args: (s) => defined({ name: s.deployment ?? '', version: s.version }),
  },
  rollback: {
    tool: 'deployments_rollback', risk: 'destructive', requires: ['deployment'], uses: ['deployment'], primary: 'deployment',
    why: (s) => `roll ${s.deployment ?? 'the deployment'} back to its stable version`, args: (s) => ({ name: s.deployment ?? '' }),
  },
  monitor: read('deployments_monitor', ['deployment', 'duration'], (s) => `live figures of ${s.deployment ?? 'the deployment'}`, (s) => defined({ name: s.deployment ?? '', window: s.duration }), { requires: ['deployment'], primary: 'deployment' }),
  shadow: {
    tool: 'deployments_shadow', risk: 'write', requires: ['deployment'], uses: ['deployment', 'version', 'percent'], primary: 'deployment',
    why: (s) => `mirror ${s.percent ?? 100}% of ${s.deployment ?? 'the deployment'}'s requests to ${s.version ? `v${s.version}` : 'the candidate'}`,
    args: (s) => ({ name: s.deployment ?? '', candidate: s.version ?? 'latest', percent: s.percent ?? 100 }),
  },
  feedback_dataset: {
    tool: 'deployments_feedback_dataset', risk: 'write', requires: ['deployment'], uses: ['deployment', 'dataset'], primary: 'deployment',
    why: (s) => `a dataset version from ${s.deployment ?? 'the deployment'}'s feedback`, args: (s) => defined({ name: s.deployment ?? '', dataset: s.dataset }),
  },
  feedback_stats: read('deployments_feedback_stats', ['deployment'], (s) => `how much labelled feedback ${s.deployment ?? 'the deployment'} has`, (s) => ({ name: s.deployment ?? '' }), { requires: ['deployment'], primary: 'deployment' }),
  deployment_delete: {
    tool: 'deployments_delete', risk: 'destructive', requires: ['deployment'], uses: ['deployment'], primary: 'deployment',
    why: (s) => `delete the deployment ${s.deployment ?? ''} (it stops serving)`, args: (s) => ({ name: s.deployment ?? '' }),
  },
  kb_list: read('kb_list', [], () => 'the knowledge bases', () => ({})),
  kb_create: { tool: 'kb_create', risk: 'write', requires: ['kb'], uses: ['kb'], why: (s) => `create the knowledge base ${s.kb ?? ''}`, args: (s) => ({ name: s.kb ?? '' }) },
  kb_search: read('kb_search', ['kb', 'query'], (s) => `search ${s.kb ?? 'the knowledge base'}`, (s) => ({ kb: s.kb ?? '', query: s.query ?? '' }), { requires: ['kb', 'query'], primary: 'kb' }),
  kb_answer: read('kb_answer', ['kb', 'query'], (s) => `answer from ${s.kb ?? 'the knowledge base'}`, (s) => ({ kb: s.kb ?? '', question: s.query ?? '' }), { requires: ['kb', 'query'], primary: 'kb' }),
  kb_ingest: { tool: 'kb_ingest', risk: 'write', requires: ['kb', 'path'], uses: ['kb', 'path'], primary: 'kb', why: (s) => `add ${s.path ?? 'the document'} to ${s.kb ?? 'the knowledge base'}`, args: (s) => ({ kb: s.kb ?? '', path: s.path ?? '' }) },
  kb_delete: { tool: 'kb_delete', risk: 'destructive', requires: ['kb'], uses: ['kb'], primary: 'kb', why: (s) => `delete ${s.kb ?? 'the knowledge base'} and its documents`, args: (s) => ({ kb: s.kb ?? '' }) },
  kb_reindex: { tool: 'kb_reindex', risk: 'write', requires: ['kb'], uses: ['kb'], primary: 'kb', why: (s) => `re-embed ${s.kb ?? 'the knowledge base'}`, args: (s) => ({ kb: s.kb ?? '' }) },
  payments_list: read('payments_list', ['payee', 'state'], () => 'the payments', (s) => defined({ payee: s.payee, status: s.state === 'failed' ? 'failed' : s.state === 'succeeded' ? 'succeeded' : undefined })),
  payment_get: read('payments_get', ['payment'], (s) => `the payment ${s.payment ?? ''}`, (s) => ({ id: s.payment ?? '' }), { requires: ['payment'], primary: 'payment' }),
  payment_create: {
    tool: 'payments_create', risk: 'spend', requires: ['amount', 'currency', 'payee'], uses: ['amount', 'currency', 'payee'],
    why: (s) => `pay ${s.amount ?? '?'} (minor units) ${s.currency ?? ''} to ${s.payee ?? 'the payee'}`,
    // The payment method is never guessed: the runtime (or the person) supplies it; a dry run shows it unresolved.
    args: (s) => ({ amount: s.amount ?? '', currency: s.currency ?? '', payee: s.payee ?? '', method: { type: 'card', token: '' }, idempotencyKey: randomUUID() }),
  },
  payment_refund: {
    tool: 'payments_refund', risk: 'destructive', requires: ['payment'], uses: ['payment', 'amount', 'currency'], primary: 'payment',
    why: (s) => `refund ${s.amount ? `${s.amount} (minor units) ${s.currency ?? ''} of ` : ''}${s.payment ?? 'the payment'}`,
    args: (s) => defined({ id: s.payment ?? '', amount: s.amount, idempotencyKey: randomUUID() }),
  },
  payment_cancel: { tool: 'payments_cancel', risk: 'destructive', requires: ['payment'], uses: ['payment'], primary: 'payment', why: (s) => `cancel ${s.payment ?? 'the payment'}`, args: (s) => ({ id: s.payment ?? '' }) },
  payment_capture: {
    tool: 'payments_capture', risk: 'spend', requires: ['payment'], uses: ['payment', 'amount', 'currency'], primary: 'payment',
    why: (s) => `capture ${s.payment ?? 'the payment'}`, args: (s) => defined({ id: s.payment ?? '', amount: s.amount }),
  },
  payment_confirm: { tool: 'payments_confirm', risk: 'spend', requires: ['payment'], uses: ['payment'], primary: 'payment', why: (s) => `confirm ${s.payment ?? 'the payment'}: the money moves`, args: (s) => ({ id: s.payment ?? '' }) },
  risk_score: read('risk_score', ['payment'], (s) => `the fraud risk of ${s.payment ?? 'the payment'}`, (s) => ({ intentId: s.payment ?? '' }), { requires: ['payment'], primary: 'payment' }),
  payments_reconcile: read('payments_reconcile', [], () => 'reconcile payments with the provider', () => ({})),
  ledger_balances: read('ledger_balances', ['currency'], () => 'the ledger balances', (s) => defined({ currency: s.currency })),
  ledger_accounts_list: read('ledger_accounts_list', ['currency'], () => 'the ledger accounts', (s) => defined({ currency: s.currency })),
  ledger_transfers_list: read('ledger_transfers_list', [], () => 'the ledger transfers', () => ({})),
  mandates_list: read('mandates_list', ['payee'], () => 'the spending mandates', (s) => defined({ grantee: s.payee })),
  mandate_create: {
    tool: 'mandates_create', risk: 'spend', requires: ['payee', 'amount', 'currency'], uses: ['payee', 'amount', 'currency', 'duration'],
    why: (s) => `let ${s.payee ?? 'the grantee'} spend up to ${s.amount ?? '?'} (minor units) ${s.currency ?? ''} per ${periodOf(s)}`,
    args: (s) => ({
      grantee: s.payee ?? '', currency: s.currency ?? '', maxPerPayment: s.amount ?? '', maxPerPeriod: s.amount ?? '', period: periodOf(s),
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(), idempotencyKey: randomUUID(),
    }),
  },
  mandate_revoke: { tool: 'mandates_revoke', risk: 'destructive', requires: ['mandate'], uses: ['mandate'], primary: 'mandate', why: (s) => `revoke ${s.mandate ?? 'the mandate'}`, args: (s) => ({ id: s.mandate ?? '' }) },
  approvals_list: read('approvals_list', [], () => 'what waits for approval', () => ({ state: 'pending' })),
  approval_decide: {
    tool: 'approvals_decide', risk: 'spend', requires: ['approval'], uses: ['approval', 'decision'], primary: 'approval',
    why: (s) => `${s.decision ?? 'approve'} ${s.approval ?? 'the approval'} (it may release money)`,
    args: (s) => ({ id: s.approval ?? '', decision: s.decision ?? 'approve' }),
  },
};

/** Labels the intent model knows that are not plans. */
export const OOS_LABEL = 'oos';
export const VAGUE_LABEL = 'vague';
