/**
 * The offline planner: no LLM. Clauses of the command are classified by the intent model (trained by
 * Anvil's own text-classifier), slots come from rules (slots.ts) resolved against the project
 * through the EntityResolver, each intent maps to a plan template (catalog.ts), and a "beats the
 * champion" condition turns the later steps into a conditional plan (compare → read the verdict →
 * the gated steps with `when`). Low confidence → an empty plan, "I don't know how to do that".
 */
import type { ToolDescription } from 'anvil/plugin';
import type { ArgValue, Plan, PlanStep, PlanningContext, Planner, StepRef, StepRisk, ThreadMemory, UnresolvedSlot } from '../../plan.ts';
import { OOS_LABEL, TEMPLATES, VAGUE_LABEL, type EntityKind, type SlotKey, type Slots, type Template } from './catalog.ts';
import { clausesOf, type Clause } from './conditions.ts';
import type { IntentGuess } from './intent-model.ts';
import { classifierText, extractMentions, type Mentions } from './slots.ts';

export const WAIT_POLL_SECONDS = 30;
const RISK_ORDER: readonly StepRisk[] = ['read', 'write', 'destructive', 'spend'];
const VAGUE_QUESTION =
  'What should I do, and on what? For example: "retrain the intent model on banking77", "roll back the fraud deployment", "refund 12.50 EUR of pay_83kd".';
/** Slots whose value names something the step creates: not looked up. */
const CREATES: Readonly<Record<string, readonly SlotKey[]>> = { kb_create: ['kb'], dataset_import: ['dataset'], deploy_model: ['deployment'], train_model: ['model'], feedback_dataset: ['dataset'] };

/** The slots a plan was made from, flattened for scoring: names, ids, numbers; references to earlier steps left out. */
export type SlotRecord = Record<string, string | number>;

export interface Analysis {
  readonly plan: Plan;
  readonly slots: SlotRecord;
  /** The intent of each clause (empty for an empty plan). */
  readonly intents: readonly string[];
}

interface WorkingMemory {
  job?: string | StepRef;
  model?: { name: string; version?: number };
  dataset?: string;
  deployment?: string;
  kb?: string;
  payment?: string;
}

/** What the planner needs of an intent model: the ONNX one (intent-model.ts), or a baseline in the bench. */
export interface IntentClassifier {
  /** The calibrated abstain threshold: below it, "I don't know how to do that". */
  readonly threshold: number;
  classify(texts: readonly string[]): Promise<IntentGuess[]>;
}

export interface OfflinePlannerSettings {
  readonly model: IntentClassifier;
  /** Below this top probability the planner says it does not know; default the model's calibrated threshold. */
  readonly minConfidence?: number;
  /** The words of the training phrasings: never taken for a name. */
  readonly commandWords: ReadonlySet<string>;
}

export class OfflinePlanner implements Planner {
  private readonly minConfidence: number;

  readonly name: string;

  constructor(private readonly settings: OfflinePlannerSettings & { readonly name?: string }) {
    this.name = settings.name ?? 'offline';
    this.minConfidence = settings.minConfidence ?? settings.model.threshold;
  }

  async plan(command: string, context: PlanningContext): Promise<Plan> {
    return (await this.analyse(command, context)).plan;
  }

  async analyse(command: string, context: PlanningContext): Promise<Analysis> {
    const text = command.replace(/\s+/g, ' ').trim().slice(0, 2000);
    const empty = (reason: string, confidence: number, extra: { question?: string; unresolved?: UnresolvedSlot[] } = {}): Analysis => ({
      plan: { command, planner: this.name, steps: [], unresolved: extra.unresolved ?? [], confidence, reason, ...(extra.question ? { question: extra.question } : {}) },
      slots: {},
      intents: [],
    });
    if (text === '') return empty('the command is empty', 0, { question: VAGUE_QUESTION });
    let clauses = clausesOf(text);
    let guesses = await this.settings.model.classify([text, ...clauses.map((clause) => clause.text)].map(classifierText));
    const whole = guesses[0] as IntentGuess;
    guesses = guesses.slice(1);
    // A split that leaves a clause the model does not know is worse than no split at all.
    if (clauses.length > 1 && guesses.some((guess) => !this.isPlannable(guess)) && this.isPlannable(whole) && !clauses.some((clause) => clause.gated)) {
      clauses = [{ text, gated: false }];
      guesses = [whole];
    }
    const notPlannable = guesses.find((guess) => !this.isPlannable(guess));
    if (notPlannable || guesses.length === 0) {
      const guess = notPlannable ?? whole;
      if (guess.intent === OOS_LABEL && guess.probability >= this.minConfidence) return empty("that is outside Anvil's skills: I plan only Anvil's own tools (jobs, training, evaluation, models, datasets, deployments, knowledge bases, payments)", guess.probability);
      if (guess.intent === VAGUE_LABEL && guess.probability >= this.minConfidence) return empty('the command is too vague to plan', guess.probability, { question: VAGUE_QUESTION });
      const closest = guess.intent !== OOS_LABEL && guess.intent !== VAGUE_LABEL ? ` (closest: ${guess.intent}, ${guess.probability.toFixed(2)})` : '';
      return empty(`I don't know how to do that${clauses.length > 1 ? `: "${clauses[guesses.indexOf(guess)]?.text ?? text}"` : ''}${closest}`, guess.probability);
    }
    return this.build(command, clauses, guesses, context);
  }

  private isPlannable(guess: IntentGuess): boolean {
    return guess.probability >= this.minConfidence && TEMPLATES[guess.intent] !== undefined;
  }

  private async build(command: string, clauses: readonly Clause[], guesses: readonly IntentGuess[], context: PlanningContext): Promise<Analysis> {
    const steps: PlanStep[] = [];
    const unresolved: UnresolvedSlot[] = [];
    const record: SlotRecord = {};
    const memory = workingMemory(context.memory);
    const annotations = new Map(context.tools.map((tool) => [tool.name, tool]));
    let verdict: { evalGet: string; version: StepRef } | undefined;
    const intents: string[] = [];
    const nextId = (): string => `s${steps.length + 1}`;

    for (const [index, clause] of clauses.entries()) {
      const mentions = extractMentions(clause.text, this.settings.commandWords);
      const intent = refineIntent((guesses[index] as IntentGuess).intent, clause.text, mentions, memory);
      const template = TEMPLATES[intent] as Template;
      const candidate = await preferredName(template, mentions, context);
      const slots = fillSlots(intent, template, mentions, memory, candidate);
      if (clause.gated && !verdict) verdict = this.compareFirst(steps, slots, memory, nextId, annotations);
      if (clause.gated && verdict && intent === 'canary_start' && slots.version === undefined) slots.candidateRef = verdict.version;
      const id = nextId();
      await this.resolve(intent, template, slots, mentions, context, id, unresolved);
      for (const key of template.uses) {
        const value = slots[key];
        if ((typeof value === 'string' || typeof value === 'number') && record[key] === undefined) record[key] = value;
      }
      const step: PlanStep = {
        id,
        tool: template.tool,
        args: template.args(slots),
        why: template.why(slots),
        risk: riskOf(template, annotations.get(template.tool)),
        ...(clause.gated && verdict ? { when: { left: { $ref: `${verdict.evalGet}.verdict` }, op: 'eq' as const, right: 'better', describe: "the candidate beats the champion (the comparison's verdict is better)" } } : {}),
        ...(template.startsJob ? { waitFor: waitForJob(id) } : {}),
      };
      steps.push(step);
      intents.push(intent);
      remember(memory, intent, slots, template.startsJob ? { $ref: `${id}.jobId` } : undefined);
      // A comparison the person asked for, followed by gated steps: read its verdict right after it.
      if (intent === 'eval_compare' && clauses.slice(index + 1).some((later) => later.gated) && !verdict) {
        const evalGet = nextId();
        steps.push({ id: evalGet, tool: 'eval_get', args: { id: { $ref: `${id}.jobId` } }, why: "read the comparison's verdict", risk: 'read' });
        verdict = { evalGet, version: { $ref: `${evalGet}.model.version` } };
      }
    }

    const missingTool = steps.find((step) => !annotations.has(step.tool) || (step.waitFor !== undefined && !annotations.has(step.waitFor.tool)));
    const confidence = Math.min(...guesses.map((guess) => guess.probability));
    if (missingTool) {
      const tool = annotations.has(missingTool.tool) ? (missingTool.waitFor?.tool ?? missingTool.tool) : missingTool.tool;
      return { plan: { command, planner: this.name, steps: [], unresolved: [], confidence, reason: `the plan needs ${tool}, which your key cannot call` }, slots: record, intents };
    }
    if (unresolved.length > 0 && !context.dryRun) {
      const names = unresolved.map((slot) => `${slot.field}${slot.mention ? ` "${slot.mention}"` : ''}`).join(', ');
      return {
        plan: { command, planner: this.name, steps: [], unresolved, confidence, reason: `cannot plan without: ${unresolved.map((slot) => slot.reason).join('; ')}`, question: `Which ${names} do you mean?` },
        slots: record,
        intents,
      };
    }
    return { plan: { command, planner: this.name, steps, unresolved, confidence }, slots: record, intents };
  }

  /** Inserts compare → wait → read the verdict before gated steps; the candidate is what the thread just trained (or names). */
  private compareFirst(steps: PlanStep[], slots: Slots, memory: WorkingMemory, nextId: () => string, annotations: ReadonlyMap<string, ToolDescription>): { evalGet: string; version: StepRef } {
    const model = memory.model?.name ?? slots.model ?? slots.deployment ?? '';
    const dataset = memory.dataset ?? model;
    const compare = nextId();
    const compareTemplate = TEMPLATES.eval_compare as Template;
    steps.push({
      id: compare,
      tool: 'eval_compare',
      args: { candidate: { model }, dataset },
      why: `compare the new ${model} with its champion on ${dataset}`,
      risk: riskOf(compareTemplate, annotations.get('eval_compare')),
      waitFor: waitForJob(compare),
    });
    const evalGet = nextId();
    steps.push({ id: evalGet, tool: 'eval_get', args: { id: { $ref: `${compare}.jobId` } }, why: "read the comparison's verdict", risk: 'read' });
    return { evalGet, version: { $ref: `${evalGet}.model.version` } };
  }

  private async resolve(intent: string, template: Template, slots: Slots, mentions: Mentions, context: PlanningContext, step: string, unresolved: UnresolvedSlot[]): Promise<void> {
    const creates = CREATES[intent] ?? [];
    const lookups: Array<[SlotKey, (name: string) => Promise<{ name: string } | undefined>]> = [
      ['model', (name) => context.resolve.model(name)],
      ['dataset', (name) => context.resolve.dataset(name)],
      ['deployment', (name) => context.resolve.deployment(name)],
      ['kb', (name) => context.resolve.knowledgeBase(name)],
    ];
    for (const [key, lookup] of lookups) {
      const name = slots[key];
      if (typeof name !== 'string' || creates.includes(key) || !template.uses.includes(key)) continue;
      const found = await lookup(name);
      if (found) (slots as Record<string, unknown>)[key] = found.name;
      else unresolved.push({ step, field: key, mention: name, reason: `no ${key === 'kb' ? 'knowledge base' : key} named "${name}" in this project` });
    }
    if (typeof slots.job === 'string' && template.uses.includes('job')) {
      const job = await context.resolve.job(slots.job);
      if (!job) unresolved.push({ step, field: 'job', mention: slots.job, reason: `no job ${slots.job} in this project` });
    }
    if (mentions.money && 'error' in mentions.money && template.uses.includes('amount')) unresolved.push({ step, field: 'amount', mention: mentions.money.text, reason: mentions.money.error });
    for (const key of template.requires) {
      if (slots[key] === undefined || slots[key] === '') unresolved.push({ step, field: key, mention: '', reason: `the command names no ${key === 'kb' ? 'knowledge base' : key}` });
    }
    if (intent === 'payment_create') unresolved.push({ step, field: 'method', mention: '', reason: 'a payment method (type and token) is never guessed: give it' });
  }
}

function riskOf(template: Template, tool: ToolDescription | undefined): StepRisk {
  const annotated: StepRisk = tool?.annotations?.destructiveHint === true && tool.annotations.readOnlyHint !== true ? 'destructive' : 'read';
  return RISK_ORDER[Math.max(RISK_ORDER.indexOf(template.risk), RISK_ORDER.indexOf(annotated))] as StepRisk;
}

function waitForJob(step: string): NonNullable<PlanStep['waitFor']> {
  return {
    tool: 'jobs_get',
    args: { id: { $ref: `${step}.jobId` }, waitSeconds: WAIT_POLL_SECONDS },
    until: { left: { $ref: 'poll.state' }, op: 'eq', right: 'succeeded', describe: 'the job has succeeded' },
  };
}

function workingMemory(memory: ThreadMemory): WorkingMemory {
  return {
    ...(memory.lastJobId ? { job: memory.lastJobId } : {}),
    ...(memory.lastModel ? { model: { ...memory.lastModel } } : {}),
    ...(memory.lastDataset ? { dataset: memory.lastDataset.name } : {}),
    ...(memory.lastDeployment ? { deployment: memory.lastDeployment } : {}),
    ...(memory.lastKnowledgeBase ? { kb: memory.lastKnowledgeBase } : {}),
    ...(memory.lastPaymentId ? { payment: memory.lastPaymentId } : {}),
  };
}

function idOf(mentions: Mentions, kind: EntityKind): string | undefined {
  const prefixes: Partial<Record<EntityKind, RegExp>> = { payment: /^(?:pay|pi)[-_]/i, mandate: /^(?:mdt|mandate)[-_]/i, approval: /^(?:apr|appr|approval)[-_]/i, job: /^(?:job|eval|run)[-_]/i };
  const prefixed = mentions.ids.find((id) => prefixes[kind]?.test(id));
  if (prefixed) return prefixed;
  const bare = mentions.ids.find((id) => !Object.values(prefixes).some((pattern) => pattern.test(id)));
  return bare;
}

/** Mentions, then the thread's memory, then conventions (a deployment named like its model; retraining on the model's own dataset). */
function fillSlots(intent: string, template: Template, m: Mentions, memory: WorkingMemory, primaryLoose: string | undefined): Slots {
  const s: Slots = {};
  const uses = new Set<SlotKey>([...template.uses, ...template.requires]);
  if (uses.has('job')) s.job = idOf(m, 'job') ?? memory.job;
  if (uses.has('payment')) s.payment = idOf(m, 'payment') ?? memory.payment;
  if (uses.has('mandate')) s.mandate = idOf(m, 'mandate');
  if (uses.has('approval')) s.approval = idOf(m, 'approval');
  const explicitModel = m.model ?? (template.primary === 'model' ? (m.named ?? primaryLoose) : undefined);
  if (uses.has('model')) s.model = explicitModel ?? (intent === 'models_list' ? undefined : memory.model?.name);
  if (uses.has('version')) {
    s.version = m.version ?? (explicitModel === undefined && m.refersBack && template.primary === 'model' ? memory.model?.version : undefined);
    s.versions = m.versions;
  }
  if (uses.has('dataset')) {
    const explicit = m.dataset ?? (template.primary === 'dataset' ? (m.named ?? primaryLoose) : intent === 'feedback_dataset' ? (m.named ?? m.asName) : undefined);
    const conventional = intent === 'train_model' || intent === 'eval_run' || intent === 'eval_compare' ? (memory.dataset ?? s.model) : intent === 'datasets_list' || intent === 'feedback_dataset' ? undefined : memory.dataset;
    s.dataset = explicit ?? conventional;
  }
  if (uses.has('deployment')) {
    s.deployment =
      intent === 'deploy_model'
        ? (m.deployment ?? m.asName ?? m.named ?? s.model)
        : (m.deployment ?? (template.primary === 'deployment' ? (m.model ?? primaryLoose) : undefined) ?? memory.deployment ?? memory.model?.name);
  }
  if (uses.has('kb')) s.kb = m.kb ?? m.named ?? (template.primary === 'kb' || intent === 'kb_create' ? primaryLoose : undefined) ?? (intent === 'kb_create' ? undefined : memory.kb);
  if (uses.has('percent') && m.percent !== undefined) s.percent = m.percent;
  if (uses.has('duration') && m.durationSeconds !== undefined) s.duration = m.durationSeconds;
  if (m.money && !('error' in m.money)) {
    if (uses.has('amount')) s.amount = m.money.amount;
    if (uses.has('currency')) s.currency = m.money.currency;
  } else if (uses.has('currency') && m.currency) s.currency = m.currency;
  if (uses.has('path') && m.path) s.path = m.path;
  if (uses.has('query') && m.query) s.query = m.query;
  if (uses.has('payee') && m.payee) s.payee = m.payee;
  if (uses.has('state') && m.state) s.state = m.state;
  if (uses.has('alias') && m.alias) s.alias = m.alias;
  if (uses.has('decision') && m.decision) s.decision = m.decision;
  if (m.period) s.period = m.period;
  return s;
}

/** Corrections the words make plain where the model confuses neighbours. */
function refineIntent(intent: string, clause: string, m: Mentions, memory: WorkingMemory): string {
  if (intent === 'anvil_status') {
    // "the status of pay_7h2k", "show its status": the status of a thing, not of the server.
    if (m.ids.some((id) => /^(?:pay|pi)[-_]/i.test(id))) return 'payment_get';
    if (m.ids.length > 0) return 'job_status';
    if (m.deployment) return 'deployment_get';
    if (m.refersBack && memory.deployment) return 'deployment_get';
    if (m.refersBack && memory.job) return 'job_status';
  }
  // "promote intent v4 to champion": an alias of a model version, not a deployment's rollout.
  if (intent === 'promote' && /\b(?:to|as)\s+(?:the\s+)?(?:champion|staging|production|baseline)\b/iu.test(clause) && !m.deployment) return 'model_set_alias';
  return intent;
}

/** Among the clause's loose tokens, one the registry knows for the intent's primary kind; else the first that is no command word. */
async function preferredName(template: Template, m: Mentions, context: PlanningContext): Promise<string | undefined> {
  const kind = template.primary;
  const lookup: Partial<Record<EntityKind, (name: string) => Promise<unknown>>> = {
    model: (name) => context.resolve.model(name),
    dataset: (name) => context.resolve.dataset(name),
    deployment: (name) => context.resolve.deployment(name),
    kb: (name) => context.resolve.knowledgeBase(name),
  };
  const find = kind ? lookup[kind] : undefined;
  if (!find) return undefined;
  // A token another slot of this step already holds is not the primary name ("train X on banking77": banking77 is the dataset).
  const others = (['model', 'dataset', 'deployment', 'kb', 'payee'] as const).filter((key) => key !== kind && template.uses.includes(key));
  const taken = new Set(others.map((key) => m[key]).filter((value) => value !== undefined));
  const candidates = m.loose.filter((token) => !taken.has(token)).slice(0, 8);
  for (const token of candidates) if (await find(token)) return token;
  return candidates.slice(0, m.looseOutsideCommands).find((token) => m.loose.indexOf(token) < m.looseOutsideCommands);
}

function remember(memory: WorkingMemory, intent: string, slots: Slots, job: StepRef | undefined): void {
  if (job) memory.job = job;
  else if (slots.job !== undefined) memory.job = slots.job;
  if (slots.model) memory.model = { name: slots.model, ...(slots.version ? { version: slots.version } : {}) };
  if (slots.dataset && intent !== 'feedback_dataset') memory.dataset = slots.dataset;
  if (slots.deployment) memory.deployment = slots.deployment;
  if (slots.kb) memory.kb = slots.kb;
  if (slots.payment) memory.payment = slots.payment;
}

export type { ArgValue };
