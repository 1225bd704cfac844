/**
 * Amounts said in words ("12.50 EUR", "€12,50", "$40", "500 yen") → integer minor units as strings,
 * the form every payments tool takes, with the ISO 4217 exponents of contracts/currencies.ts; a
 * currency missing there is refused, not guessed.
 */
import { currencyExponent } from '../../../contracts/currencies.ts';

export { currencyExponent };


const SYMBOLS: Readonly<Record<string, string>> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY', '₹': 'INR', '₩': 'KRW', '₣': 'CHF' };
const WORDS: Readonly<Record<string, string>> = {
  dollar: 'USD', dollars: 'USD', bucks: 'USD', euro: 'EUR', euros: 'EUR', pound: 'GBP', pounds: 'GBP', quid: 'GBP', yen: 'JPY',
  franc: 'CHF', francs: 'CHF', rupee: 'INR', rupees: 'INR', dinar: 'KWD', dinars: 'KWD', won: 'KRW', krona: 'SEK', kronor: 'SEK',
};

export interface MoneyMention {
  /** Integer minor units, as a string ("1250" for 12.50 EUR). */
  readonly amount: string;
  readonly currency: string;
  /** The words it came from. */
  readonly text: string;
}

export type MoneyParse = MoneyMention | { readonly error: string; readonly text: string };

const LOWER_CASE_CODES: ReadonlySet<string> = new Set(['usd', 'eur', 'gbp', 'jpy', 'chf', 'cad', 'aud', 'sek', 'nok', 'dkk', 'inr', 'kwd']);

const NUMBER = String.raw`\d{1,3}(?:[,.' ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?`;
const SYMBOL = String.raw`[$€£¥₹₩₣]`;
const CODE = String.raw`[A-Za-z]{3}`;
const WORD = Object.keys(WORDS).join('|');
const PATTERNS: readonly RegExp[] = [
  new RegExp(String.raw`(?<code>${CODE})\s?(?<symbol>${SYMBOL})?\s?(?<number>${NUMBER})\b`, 'u'),
  new RegExp(String.raw`(?<symbol>${SYMBOL})\s?(?<number>${NUMBER})(?:\s?(?<code>${CODE})\b)?`, 'u'),
  new RegExp(String.raw`(?<![\w.])(?<number>${NUMBER})\s?(?:(?<symbol>${SYMBOL})|(?<word>${WORD})\b|(?<code>${CODE})\b)`, 'iu'),
];

/** Digits and separators → [integer part, fraction part]: "1,250.5" → ["1250", "5"]; "12,50" → ["12", "50"]. */
function splitNumber(raw: string, exponent: number): [string, string] {
  const compact = raw.replace(/[' ]/g, '');
  const lastDot = compact.lastIndexOf('.');
  const lastComma = compact.lastIndexOf(',');
  const decimalAt = Math.max(lastDot, lastComma);
  if (decimalAt < 0) return [compact, ''];
  const fraction = compact.slice(decimalAt + 1);
  const onlyOneKind = lastDot < 0 || lastComma < 0;
  // "1,250" / "1.250": one separator followed by exactly three digits is a thousands separator.
  const separator = compact[decimalAt] as string;
  if (onlyOneKind && fraction.length === 3 && exponent < 3 && compact.split(separator).length >= 2 && !/[.,]\d{1,2}$/.test(compact)) return [compact.replace(/[.,]/g, ''), ''];
  return [compact.slice(0, decimalAt).replace(/[.,]/g, ''), fraction];
}

/** The first amount with a currency in `text`, in minor units; an error when the currency is unknown or has fewer decimals than given. */
export function parseMoney(text: string): MoneyParse | undefined {
  const matches = PATTERNS.flatMap((pattern) => [...text.matchAll(new RegExp(pattern.source, `${pattern.flags}g`))].map((match) => ({ match, pattern }))).sort((a, b) => (a.match.index ?? 0) - (b.match.index ?? 0));
  for (const { match, pattern } of matches) {
    if (!match.groups) continue;
    const { code, symbol, word, number } = match.groups;
    // A code counts when written in capitals ("EUR"), or lower-case if common ("usd"): "top 5" is not 5 TOP.
    const codeCurrency = code && currencyExponent(code.toUpperCase()) !== undefined && (code === code.toUpperCase() || LOWER_CASE_CODES.has(code)) ? code.toUpperCase() : undefined;
    if (pattern === PATTERNS[0] && !codeCurrency) continue;
    const currency = codeCurrency ?? (symbol ? SYMBOLS[symbol] : word ? WORDS[word.toLowerCase()] : undefined);
    if (!currency || !number) continue;
    const exponent = currencyExponent(currency) as number;
    const [whole, fraction] = splitNumber(number, exponent);
    if (fraction.length > exponent) return { error: `${currency} has ${exponent} decimal${exponent === 1 ? '' : 's'}; "${number}" has ${fraction.length}`, text: match[0] };
    const minor = BigInt(whole || '0') * 10n ** BigInt(exponent) + BigInt((fraction || '0').padEnd(exponent, '0').slice(0, exponent) || '0');
    return { amount: minor.toString(), currency, text: match[0].trim() };
  }
  return undefined;
}
