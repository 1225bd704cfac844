/**
 * Card numbers never enter Anvil: payment methods are provider tokens. Any string anywhere in a
 * payments tool's input that holds a primary account number (13–19 digits, spaces or dashes allowed,
 * valid Luhn check digit) refuses the whole call before anything is stored or logged, and the error
 * names the field only — never the value.
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';

// 13–19 digits in a row, or the way cards are printed (4-4-4-4, 4-6-5): separators only between
// such groups. A candidate must stand on its own — not inside a longer token of letters, digits
// or dashes — so hex identifiers (a SHA-256 with a 13-digit run, a UUID's 4-4-4 groups) are not
// mistaken for card numbers; 0.4% of random SHA-256 strings were before.
const candidate = /(?<![0-9A-Za-z_-])(?:\d{13,19}|\d{4}([ -])\d{4,6}\1\d{4,5}(?:\1\d{1,4})?)(?![0-9A-Za-z_-])/g;

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** True when `text` contains something shaped like a card number. */
export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(candidate)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) return true;
  }
  return false;
}

/** The path of the first field holding a card number, or undefined. Keys are checked too. */
export function findCardNumber(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return containsCardNumber(value) ? path || '(input)' : undefined;
  if (typeof value === 'number') return containsCardNumber(String(value)) ? path || '(input)' : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findCardNumber(item, `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (containsCardNumber(key)) return path ? `${path} (a key)` : '(a key)';
      const found = findCardNumber(item, here);
      if (found) return found;
    }
  }
  return undefined;
}

/** Throws ANVIL_E_INVALID_INPUT naming the field when `input` carries a card number anywhere. */
export function refuseCardNumbers(input: unknown): void {
  const field = findCardNumber(input);
  if (field) {
    throw new AnvilError(
      ErrorCodes.INVALID_INPUT,
      `${field}: looks like a card number; Anvil never accepts card numbers — tokenize the card at the payment provider and send its token (e.g. method.token "tok_…")`,
      { details: { field, reason: 'card_number_refused' } },
    );
  }
}
