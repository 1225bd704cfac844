/**
 * Slot extraction by rule, independent of the intent model: ids, names of models / datasets /
 * deployments / knowledge bases, versions, percentages, durations, money, paths, free-text queries,
 * and references to the thread's memory ("it", "that job", "the last model"). Names are only
 * mentions here; the planner resolves them against the registry through the EntityResolver.
 */
import { parseMoney, type MoneyParse } from './money.ts';

export interface Mentions {
  readonly ids: readonly string[];
  readonly model?: string;
  readonly dataset?: string;
  readonly deployment?: string;
  readonly kb?: string;
  readonly version?: number;
  readonly versions: readonly number[];
  readonly alias?: string;
  readonly percent?: number;
  readonly durationSeconds?: number;
  readonly money?: MoneyParse;
  readonly currency?: string;
  readonly path?: string;
  readonly query?: string;
  readonly payee?: string;
  readonly state?: string;
  readonly decision?: 'approve' | 'deny';
  /** A spending period: "per month", "a week", "daily". */
  readonly period?: 'day' | 'week' | 'month' | 'total';
  /** Words pointing at the thread's memory: "it", "that job", "the last model". */
  readonly refersBack: boolean;
  /** Tokens that could be a name the patterns missed: those no command word first, then command words. */
  readonly loose: readonly string[];
  /** How many of `loose` are no command word. */
  readonly looseOutsideCommands: number;
  /** "… named X" / "… called X". */
  readonly named?: string;
  /** "… as X". */
  readonly asName?: string;
}

const BACKTICK = '`';
const NAME = String.raw`[A-Za-z0-9][\w.-]*[A-Za-z0-9]|[A-Za-z0-9]`;
/** Words that are never a name (determiners, ops verbs and nouns). */
const NOT_A_NAME = new Set(
  (
    'a an the my our your this that these those it its new latest last current same previous old stable candidate champion production staging ' +
    'and or on of to for from in into with at by as is be me us all any some each every one two please now again then if when only data ' +
    'model models dataset datasets deployment deployments endpoint kb knowledge base version job jobs canary traffic percent text intent-classifier ' +
    'test train training split set file document docs page pages which what who how why where the run up out off back'
  ).split(' '),
);
const KEEP_NAME = new Set(['intent']);

function cleanName(raw: string | undefined, commandWords?: ReadonlySet<string>): string | undefined {
  if (!raw) return undefined;
  const name = raw.replace(/^[`'"]+|[`'".,;:!?]+$/g, '');
  if (name === '' || (NOT_A_NAME.has(name.toLowerCase()) && !KEEP_NAME.has(name.toLowerCase()))) return undefined;
  if (/^\d+(?:\.\d+)?%?$/.test(name) || /^v\d+$/i.test(name)) return undefined;
  if (commandWords?.has(name.toLowerCase()) && !KEEP_NAME.has(name.toLowerCase())) return undefined;
  return name;
}

function firstName(text: string, patterns: readonly RegExp[], commandWords: ReadonlySet<string>): string | undefined {
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const name = cleanName(match[1], commandWords);
      if (name) return name;
    }
  }
  return undefined;
}

const byKeyword = (keywords: string): RegExp[] => [
  new RegExp(String.raw`\b(?:${keywords})\s+(?:named|called)\s+["'${BACKTICK}]?(${NAME})`, 'giu'),
  new RegExp(String.raw`\b(?:the|my|our|a|this|that)?\s*["'${BACKTICK}]?(${NAME})["'${BACKTICK}]?\s+(?:${keywords})\b`, 'giu'),
  new RegExp(String.raw`\b(?:${keywords})\s+["'${BACKTICK}]?(${NAME})`, 'giu'),
];

const MODEL = byKeyword('model|classifier');
const DATASET = [...byKeyword('dataset|data set|data|corpus'), /\b(?:on|from|using|with)\s+(?:dataset\s+)?["'`]?([A-Za-z0-9][\w.-]*[0-9_-][\w.-]*)/giu];
const DEPLOYMENT = byKeyword('deployment|endpoint|service|canary|rollout');
const KB = byKeyword('knowledge base|kb|docs|index|collection');

const ID = /\b(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:job|pay|pi|mdt|mandate|apr|appr|approval|tr|eval|acct|run)[-_][A-Za-z0-9][\w-]*)\b/giu;
const PERCENT = /(\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b|pct\b)/iu;
const HALF = /\bhalf\b/iu;
const ALL_TRAFFIC = /\b(?:all (?:the )?traffic|100 ?%|fully)\b/iu;
const DURATION = /\b(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)\b/iu;
const DURATION_UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const VERSION = /(?<![\w-])(?:v|version\s*#?|ver\.?\s*)(\d{1,6})\b/giu;
const PATH = /(?:^|\s)["'`]?((?:\.{0,2}\/|[\w-]+\/)[\w./-]+|[\w-]+\.(?:csv|jsonl|json|txt|md|pdf|docx|html))["'`]?(?=\s|$|[,;])/u;
const ALIAS = /\b(?:as|the|to)\s+(champion|staging|production|canary|shadow|baseline)\b/iu;
const STATE = /\b(running|queued|succeeded|successful|failed|cancelled|canceled|pending|waiting)\b/iu;
const REFERS_BACK = /\b(?:it|its|that|this|the same|the last|the previous|the latest one|them|those)\b/iu;
const CURRENCY = /\b(USD|EUR|GBP|JPY|CHF|CAD|AUD|SEK|NOK|DKK|INR|KWD|euros?|dollars?|pounds?|yen)\b/u;
const CURRENCY_WORD: Readonly<Record<string, string>> = { euro: 'EUR', euros: 'EUR', dollar: 'USD', dollars: 'USD', pound: 'GBP', pounds: 'GBP', yen: 'JPY' };
const QUERY = [/\b(?:according to|using|from|ask)\s+(?:the\s+)?[\w.-]+(?:\s+(?:docs|kb|knowledge base))?\s*[,:]\s*(.+?)[?.!]*$/iu, /\b(?:for|about|mention(?:s|ing)?|regarding)\s+["'`]?(.+?)["'`]?\s*(?:\bin\s+(?:the\s+)?[\w.-]+(?:\s+(?:kb|knowledge base|docs))?)?[?.!]*$/iu, /:\s*(.+?)\s*$/u];
const PAYEE = /\b(?:to|for|payee|grantee|give|allow|authori[sz]e|grant|pay)\s+["'`]?([A-Za-z][\w.@-]*)/giu;

/** Every mention in one clause of a command. `commandWords` are the words of the training phrasings, never names. */
export function extractMentions(clause: string, commandWords: ReadonlySet<string>): Mentions {
  const ids = [...clause.matchAll(ID)].map((m) => m[0]);
  // Ids and money are taken out first so their parts are not read as names, versions or durations.
  let rest = ids.reduce((text, id) => text.replace(id, ' '), clause);
  const money = parseMoney(rest);
  if (money) rest = rest.replace(money.text, ' ');
  const path = PATH.exec(rest)?.[1];
  if (path) rest = rest.replace(path, ' ');
  const versions = [...rest.matchAll(VERSION)].map((m) => Number(m[1]));
  const percentMatch = PERCENT.exec(rest);
  const percent = percentMatch ? Number(percentMatch[1]) : HALF.test(rest) ? 50 : ALL_TRAFFIC.test(rest) ? 100 : undefined;
  const withoutNumbers = rest.replace(VERSION, ' ').replace(PERCENT, ' ');
  const durationMatch = DURATION.exec(withoutNumbers);
  const durationSeconds = durationMatch ? Math.round(Number(durationMatch[1]) * (DURATION_UNIT[(durationMatch[2] as string)[0]!.toLowerCase()] ?? 1)) : undefined;
  const named = withoutNumbers.replace(DURATION, ' ');
  const currencyMatch = CURRENCY.exec(named)?.[1];
  const currency = money && !('error' in money) ? money.currency : currencyMatch ? (CURRENCY_WORD[currencyMatch.toLowerCase()] ?? currencyMatch.toUpperCase()) : undefined;
  const stateWord = STATE.exec(named)?.[1]?.toLowerCase();
  const state = stateWord === 'successful' ? 'succeeded' : stateWord === 'canceled' ? 'cancelled' : stateWord === 'pending' || stateWord === 'waiting' ? 'queued' : stateWord;
  // Every token that could be a name, most name-like first: the planner prefers one the registry knows.
  const tokens = (named.match(new RegExp(NAME, 'gu')) ?? []).filter((token) => cleanName(token) !== undefined);
  const loose = [...tokens.filter((token) => !commandWords.has(token.toLowerCase())), ...tokens.filter((token) => commandWords.has(token.toLowerCase()))];
  const namedAs = cleanName(/\b(?:named|called)\s+["'`]?([\w.-]+)/iu.exec(named)?.[1], commandWords);
  const asName = cleanName(/\bas\s+["'`]?([\w.-]+)/iu.exec(named)?.[1], commandWords);
  const decision = /\b(?:deny|denied|reject|decline|refuse)\b/iu.test(clause) ? 'deny' : /\b(?:approve|sign off|accept|allow)\b/iu.test(clause) ? 'approve' : undefined;
  let query: string | undefined;
  for (const pattern of QUERY) {
    const found = pattern.exec(clause)?.[1]?.trim();
    if (found) {
      query = found;
      break;
    }
  }
  const payee = firstName(named, [PAYEE], commandWords);
  const periodWord = /\b(?:per|a|each|every)\s+(day|week|month)\b|\b(daily|weekly|monthly|in total|overall)\b/iu.exec(clause);
  const periodText = (periodWord?.[1] ?? periodWord?.[2] ?? '').toLowerCase();
  const period = periodText === 'daily' || periodText === 'day' ? 'day' : periodText === 'weekly' || periodText === 'week' ? 'week' : periodText === 'monthly' || periodText === 'month' ? 'month' : periodText ? 'total' : undefined;
  return {
    ids,
    ...(period ? { period } : {}),
    model: firstName(named, MODEL, commandWords),
    dataset: firstName(named, DATASET, commandWords),
    deployment: firstName(named, DEPLOYMENT, commandWords),
    kb: firstName(named, KB, commandWords),
    ...(versions[0] !== undefined ? { version: versions[0] } : {}),
    versions,
    ...(ALIAS.exec(named) ? { alias: (ALIAS.exec(named) as RegExpExecArray)[1]!.toLowerCase() } : {}),
    ...(percent !== undefined ? { percent } : {}),
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    ...(money ? { money } : {}),
    ...(currency ? { currency } : {}),
    ...(path ? { path } : {}),
    ...(query ? { query } : {}),
    ...(payee && !commandWords.has(payee.toLowerCase()) ? { payee } : {}),
    ...(state ? { state } : {}),
    ...(decision ? { decision } : {}),
    refersBack: REFERS_BACK.test(clause),
    loose,
    looseOutsideCommands: tokens.filter((token) => !commandWords.has(token.toLowerCase())).length,
    ...(namedAs ? { named: namedAs } : {}),
    ...(asName ? { asName } : {}),
  };
}

const ID_WORD: readonly [RegExp, string][] = [
  [/^(?:pay|pi)[-_]/i, 'paymentid'],
  [/^(?:mdt|mandate)[-_]/i, 'mandateid'],
  [/^(?:apr|appr|approval)[-_]/i, 'approvalid'],
  [/^eval[-_]/i, 'evaluationid'],
];

/**
 * The text the intent model sees, at training and at planning time alike: ids, amounts, percentages,
 * versions, durations and paths replaced by one placeholder word each, so "send 10.5 JPY to bob"
 * reads like "send amountvalue to bob" whatever the number and currency.
 */
export function classifierText(text: string): string {
  let out = text.replace(ID, (id) => ` ${ID_WORD.find(([pattern]) => pattern.test(id))?.[1] ?? 'jobid'} `);
  for (let money = parseMoney(out), guard = 0; money && guard < 5; money = parseMoney(out), guard++) out = out.replace(money.text, ' amountvalue ');
  const path = PATH.exec(out)?.[1];
  if (path) out = out.replace(path, ' filepath ');
  return out
    .replace(new RegExp(PERCENT.source, 'giu'), ' percentvalue ')
    .replace(VERSION, ' versionvalue ')
    .replace(new RegExp(DURATION.source, 'giu'), ' durationvalue ')
    .replace(/\s+/g, ' ')
    .trim();
}
