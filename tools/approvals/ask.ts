/**
 * Asking the person at the caller's client for one decision (MCP elicitation): the form every
 * approval in the chat uses, whoever asks (a payment, an agent step).
 */
import type { ToolContext } from 'anvil/plugin';
import type { Decision } from './service.ts';

/**
 * Puts `message` to the person as an approve/deny form; `what` names the thing in the field's
 * description. Undefined when they decline, cancel or answer nothing usable; a client that cannot
 * be asked or fails throws (the caller decides whether that only leaves the approval waiting).
 */
export async function askForDecision(context: Pick<ToolContext, 'elicit'>, message: string, what: string, signal: AbortSignal): Promise<Decision | undefined> {
  const answer = await context.elicit(
    {
      message,
      requestedSchema: { type: 'object', properties: { decision: { type: 'string', enum: ['approve', 'deny'], description: `Approve or deny ${what}` } }, required: ['decision'] },
    },
    { signal },
  );
  if (answer.action !== 'accept') return undefined;
  const decision = answer.content?.decision;
  return decision === 'approve' || decision === 'deny' ? decision : undefined;
}
