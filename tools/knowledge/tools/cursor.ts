/**
 * Opaque list cursors of kb_list and kb_get: the last key of a page, bound to the listing it came
 * from (a cursor of one knowledge base's documents is refused for another's).
 */
import { AnvilError, ErrorCodes } from 'anvil/plugin';

export function encodeCursor(listing: string, key: string): string {
  return Buffer.from(JSON.stringify(['kb1', listing, key])).toString('base64url');
}

/** The key a cursor resumes after; null without a cursor. */
export function decodeCursor(cursor: string | undefined, listing: string): string | null {
  if (cursor === undefined) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (Array.isArray(decoded) && decoded.length === 3 && decoded[0] === 'kb1' && decoded[1] === listing && typeof decoded[2] === 'string') return decoded[2];
  throw new AnvilError(ErrorCodes.INVALID_INPUT, 'cursor: not the nextCursor of a previous page of this listing; start again without a cursor', { details: { field: 'cursor' } });
}

/** A page of at most `limit` rows out of `limit + 1` fetched, and the cursor after it when more follow. */
export function pageOf<Row>(rows: Row[], limit: number, listing: string, keyOf: (row: Row) => string): { page: Row[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(listing, keyOf(last)) : null };
}
