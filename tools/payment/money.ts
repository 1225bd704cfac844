/**
 * Money as integers in minor units, carried as strings (never floats): the exponent of each
 * currency comes from ISO 4217 (JPY 0, EUR 2, KWD 3, CLF 4). Amount strings are checked here once,
 * at the edge, and the rest of the plugin handles them as bigint or SQL numeric.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';
import { currencyExponent } from '../../contracts/currencies.ts';

export { currencyExponent };


/** Up to 30 digits: far beyond any real amount, and 2^100 of them still fit a numeric(38,0) balance. */
export const MAX_AMOUNT_DIGITS = 30;


function invalid(field: string, message: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, `${field}: ${message}`, { details: { field } });
}

/** Checks an ISO 4217 code and returns it. */
export function parseCurrency(value: string, field = 'currency'): string {
  if (currencyExponent(value) === undefined) {
    const hint = currencyExponent(value.toUpperCase()) !== undefined ? ` (codes are upper case: "${value.toUpperCase()}")` : '';
    throw invalid(field, `expected an ISO 4217 currency code such as "EUR" or "JPY"${hint}; "${value.slice(0, 8)}" is not one`);
  }
  return value;
}

/**
 * Parses an amount in minor units: a string of digits, positive, no sign, no decimals, no leading
 * zeros. The message says what the value would have been in minor units when it had decimals.
 */
export function parseAmount(value: string, currency: string, field = 'amount', options: { allowZero?: boolean } = {}): bigint {
  const exponent = currencyExponent(currency) ?? 2;
  const example = `"${(10n ** BigInt(exponent) * 10n + (exponent > 0 ? 5n * 10n ** BigInt(exponent - 1) : 0n)).toString()}"`;
  if (/^-/.test(value)) throw invalid(field, `amounts are positive; got a negative amount`);
  if (/^\d+[.,]\d*$/.test(value)) {
    throw invalid(field, `amounts are integers in minor units (${currency} has ${exponent} decimal${exponent === 1 ? '' : 's'}: 10${exponent > 0 ? '.5' : ''} ${currency} is ${example}); decimals are not accepted`);
  }
  if (!/^\d+$/.test(value)) throw invalid(field, `expected a string of digits in minor units, e.g. ${example}`);
  if (value.length > 1 && value.startsWith('0')) throw invalid(field, 'expected digits without leading zeros');
  if (value.length > MAX_AMOUNT_DIGITS) throw invalid(field, `at most ${MAX_AMOUNT_DIGITS} digits`);
  const amount = BigInt(value);
  if (amount === 0n && !options.allowZero) throw invalid(field, 'amounts must be greater than zero');
  return amount;
}

/** `1050` EUR → "10.50" (for summaries people read; never parsed back). */
export function formatMajor(amount: bigint, currency: string): string {
  const exponent = currencyExponent(currency) ?? 2;
  if (exponent === 0) return amount.toString();
  const digits = amount.toString().padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
