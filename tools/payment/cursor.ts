import { AnvilError, ErrorCodes } from 'anvil/plugin';

/**
 * The `next` cursor of a list ordered newest first by (created_at, id): the last row's created_at,
 * as Postgres printed it (so no precision is lost in a round trip through a JS Date), and its id.
 */
export function encodeCreatedCursor(createdText: string, id: string): string {
  return Buffer.from(`${createdText}|${id}`).toString('base64url');
}

/** The (created_at, id) a cursor resumes after; a value that is not a `next` of ours is invalid input naming `cursor`. */
export function decodeCreatedCursor(cursor: string): { at: string; id: string } {
  const parsed = /^(.+)\|([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!parsed || Number.isNaN(Date.parse(parsed[1] as string))) throw new AnvilError(ErrorCodes.INVALID_INPUT, 'cursor: expected the `next` value of a previous page');
  return { at: parsed[1] as string, id: parsed[2] as string };
}
