/**
 * Reads a POST to `/mcp` once, before the SDK does: the parsed body then goes to the SDK as
 * `parsedBody` (it neither clones nor re-reads the request), the text answers a scope refusal by
 * request id, and what the request asks for tells the server factory how little it must build —
 * a single `tools/call` needs one tool registered, not the whole catalog.
 *
 * Anything unusual (not JSON, unreadable, too large, not parseable) is answered or forwarded
 * exactly as the SDK would have answered it.
 */
import { isJsonContentType, readRequestBody } from '@modelcontextprotocol/server';
import type { McpRequestScope } from '../mcp/server-factory.ts';
import { jsonRpcError } from './env.ts';

export type PeekedBody =
  /** Leave the request to the SDK as it is (not a POST, or not JSON: it answers 405/415 itself). */
  | { kind: 'untouched' }
  /** The SDK's own answer for a body that cannot be read or is over the limit. */
  | { kind: 'answered'; response: Response }
  /** The body was read but is no JSON: a fresh request with the same bytes, for the SDK to refuse in its words. */
  | { kind: 'unparsed'; request: Request; text: string }
  | { kind: 'parsed'; text: string; parsed: unknown; scope: McpRequestScope | undefined };

/** What a single JSON-RPC request body asks for, when it is one the factory can serve with less than everything. */
export function requestScope(parsed: unknown): McpRequestScope | undefined {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { method, params } = parsed as { method?: unknown; params?: unknown };
  if (method === 'tools/list') return { method: 'tools/list' };
  if (method !== 'tools/call' || params === null || typeof params !== 'object') return undefined;
  const { name } = params as { name?: unknown };
  return typeof name === 'string' ? { method: 'tools/call', tool: name } : undefined;
}

export async function peekMcpBody(request: Request, maxBytes: number): Promise<PeekedBody> {
  if (request.method !== 'POST' || !isJsonContentType(request.headers.get('content-type'))) return { kind: 'untouched' };
  const tooLarge = (): PeekedBody => ({
    kind: 'answered',
    response: Response.json(jsonRpcError(-32000, `Payload Too Large: Request body must not exceed ${maxBytes} bytes`), { status: 413 }),
  });
  let text: string;
  try {
    // With a Content-Length the HTTP parser delivers no more than it names, so the limit is checked
    // up front and `text()` reads the socket directly (@hono/node-server's fast path, no web stream);
    // a chunked body is read as a stream and cut off at the limit.
    const declared = request.headers.get('content-length');
    if (declared !== null && /^\d+$/.test(declared)) {
      if (Number(declared) > maxBytes) return tooLarge();
      text = await request.text();
    } else {
      const read = await readRequestBody(request, maxBytes);
      if (read.tooLarge) return tooLarge();
      text = read.text;
    }
  } catch {
    return { kind: 'answered', response: Response.json(jsonRpcError(-32700, 'Parse error: the request body could not be read'), { status: 400 }) };
  }
  let parsed: unknown;
  try {
    parsed = text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) {
    const copy = new Request(request.url, { method: 'POST', headers: request.headers, body: text });
    return { kind: 'unparsed', request: copy, text };
  }
  return { kind: 'parsed', text, parsed, scope: requestScope(parsed) };
}
