/**
 * What each leg indexes of a chunk: its document's name as a field, its heading path and its text.
 * The name (the document's title, else a `title` in its metadata, else its id — a file path or a
 * corpus id such as `pg_upgrade.1`) is how people name what they look for, so the lexical leg
 * counts its words NAME_WEIGHT times (BM25F-style field weighting by repetition: the name's terms
 * saturate through BM25's tf curve like any other). The dense leg sees the name once.
 */
import { tokenize } from './tokenize.ts';

/**
 * Chosen on the first 200 queries of the shared man-page set only (lexical nDCG@10 there: weight 0
 * 0.841, 3 0.873, 6 0.888; see docs/knowledge.md); the other 200 are held out.
 */
export const NAME_WEIGHT = 6;

export interface ChunkFields {
  readonly name: string;
  readonly heading: readonly string[];
  readonly text: string;
}

/** The name field of a document. */
export function documentName(id: string, title: string | null | undefined, metadata: Readonly<Record<string, unknown>>): string {
  if (title && title.trim().length > 0) return title;
  const given = metadata.title;
  if (typeof given === 'string' && given.trim().length > 0) return given;
  return id;
}

/** The lexical leg's tokens of a chunk (their count is BM25's document length). */
export function lexicalTokens(fields: ChunkFields): string[] {
  const name = tokenize(fields.name);
  const out: string[] = [];
  for (let i = 0; i < NAME_WEIGHT; i += 1) out.push(...name);
  out.push(...tokenize(fields.heading.join(' ')), ...tokenize(fields.text));
  return out;
}

/** The text the dense leg embeds for a chunk. */
export function denseText(fields: ChunkFields): string {
  return `${fields.name}\n\n${fields.heading.join(' ')}\n\n${fields.text}`;
}
