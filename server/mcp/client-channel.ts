import type { CreateMessageRequest, ElicitRequestFormParams, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { SdkError, SdkErrorCode } from '@modelcontextprotocol/server';
import { AnvilError, ErrorCodes, errorMessage } from '../errors.ts';
import type { ClientCapabilities, ClientChannel, ClientRequestOptions, ElicitOutcome, SampleResult } from './contracts.ts';

/**
 * The server-to-client half of one tool call: `elicitation/create` and `sampling/createMessage`
 * sent to the client that made the call. Only a 2025-era connection (stdio, in-memory) can carry
 * them: Anvil's HTTP endpoint is stateless (no connection to send on) and the 2026-07-28 revision
 * replaced push requests with multi-round-trip results. Either way the refusal is one stable code.
 */

const defaultTimeoutMs = 60_000;

function refused(what: string, why: string): AnvilError {
  return new AnvilError(ErrorCodes.CLIENT_CAPABILITY, `${what} is not available for this call: ${why}`, { details: { reason: why } });
}

/**
 * A channel that refuses everything, for calls with no client to ask (in-process, HTTP, MCP
 * 2026-07-28). Its capabilities are empty whatever the client declared: they say what a tool can
 * use on this call, so a tool that checks them first never picks a path that is refused.
 */
export function unreachableClient(why: string): ClientChannel {
  return {
    capabilities: {},
    elicit: async () => {
      throw refused('Elicitation', why);
    },
    sample: async () => {
      throw refused('Sampling', why);
    },
  };
}

/** Maps what the SDK or the client threw onto Anvil's codes; an abort stays an abort. */
function clientFailure(what: string, error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return error;
  if (error instanceof SdkError && error.code === SdkErrorCode.CapabilityNotSupported) return refused(what, error.message);
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
    return new AnvilError(ErrorCodes.UPSTREAM_FAILED, `${what}: the client did not answer in time`);
  }
  return new AnvilError(ErrorCodes.UPSTREAM_FAILED, `${what}: the client answered with an error: ${errorMessage(error)}`);
}

function requestOptions(options: ClientRequestOptions | undefined, callSignal: AbortSignal) {
  const signal = options?.signal ? AbortSignal.any([options.signal, callSignal]) : callSignal;
  return { signal, timeout: options?.timeoutMs ?? defaultTimeoutMs };
}

/** Form elicitation: declared as `elicitation.form`, or as a bare `elicitation: {}` (the rule before modes existed). */
function supportsFormElicitation(capabilities: ClientCapabilities): boolean {
  const elicitation = capabilities.elicitation;
  if (!elicitation) return false;
  return elicitation.form !== undefined || elicitation.url === undefined;
}

export function clientChannel(options: {
  server: McpServer;
  context: ServerContext;
  transport: 'stdio' | 'http' | 'in-memory' | 'in-process';
  era: 'legacy' | 'modern';
}): ClientChannel {
  const { server, context, transport, era } = options;
  if (transport === 'http') {
    return unreachableClient('Anvil serves HTTP statelessly, so a call over HTTP cannot send a request back to its client (use stdio)');
  }
  if (era === 'modern') {
    return unreachableClient('MCP revision 2026-07-28 has no server-to-client requests (connect with a 2025 revision)');
  }
  const capabilities = (server.server.getClientCapabilities() ?? {}) as ClientCapabilities;
  return {
    capabilities,
    async elicit(request, requestOptionsGiven): Promise<ElicitOutcome> {
      if (!supportsFormElicitation(capabilities)) throw refused('Elicitation', 'the client did not declare the elicitation capability');
      const sendOptions = requestOptions(requestOptionsGiven, context.mcpReq.signal);
      try {
        const params = { mode: 'form', message: request.message, requestedSchema: request.requestedSchema } as ElicitRequestFormParams;
        const answer = await server.server.elicitInput(params, sendOptions);
        return { action: answer.action, ...(answer.action === 'accept' && answer.content ? { content: answer.content as ElicitOutcome['content'] } : {}) };
      } catch (error) {
        throw clientFailure('Elicitation', error, sendOptions.signal);
      }
    },
    async sample(request, requestOptionsGiven): Promise<SampleResult> {
      if (!capabilities.sampling) throw refused('Sampling', 'the client did not declare the sampling capability');
      if (request.tools && !capabilities.sampling.tools) throw refused('Sampling with tools', 'the client declared sampling without tools');
      const sendOptions = requestOptions(requestOptionsGiven, context.mcpReq.signal);
      try {
        const answer = await server.server.createMessage(request as CreateMessageRequest['params'], sendOptions);
        return answer as SampleResult;
      } catch (error) {
        throw clientFailure('Sampling', error, sendOptions.signal);
      }
    },
  };
}
