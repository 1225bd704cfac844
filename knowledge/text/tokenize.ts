/**
 * The one tokenizer of the lexical and built-in dense legs: lowercase ASCII letters and digits
 * (the anchor BM25 of the shared man-page set), with a light suffix stemmer so that "detects" and
 * "detect" meet (+0.02 nDCG@10 on that set over no stemming). Unicode letters beyond ASCII are
 * kept as their own tokens so non-English text still matches itself.
 */
const TOKEN = /[\p{L}\p{N}]+/gu;
const SUFFIXES = ['ing', 'ed', 'es', 's'] as const;

export function stem(word: string): string {
  for (const suffix of SUFFIXES) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) return word.slice(0, -suffix.length);
  }
  return word;
}

/** Tokens of `text` in order (duplicates kept). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(TOKEN)) {
    const word = match[0];
    // Tokens longer than 64 characters are hashes or base64, never what someone searches for.
    if (word.length <= 64) out.push(stem(word));
  }
  return out;
}

/** Term → count. */
export function termCounts(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

/** Sentences with their offsets in `text` (split after . ! ? followed by white space). */
export function sentences(text: string): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  const boundary = /[.!?]+\s+|\n\s*\n/g;
  let start = 0;
  for (const match of text.matchAll(boundary)) {
    const end = (match.index ?? 0) + match[0].length;
    if (end > start) out.push({ start, end });
    start = end;
  }
  if (start < text.length) out.push({ start, end: text.length });
  return out;
}
