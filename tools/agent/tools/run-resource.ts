import { AnvilError, ErrorCodes, type ResourceSpec } from 'anvil/plugin';
import type { AgentRuntime } from '../../../graphs/agent/runtime.ts';
import { AGENT_SCOPES, runUri } from './schemas.ts';

/** A run as JSON; subscribers are told on every change of its state. */
export function runResource(runtime: () => AgentRuntime): ResourceSpec {
  return {
    name: 'agent_run',
    title: 'Agent run',
    description: 'An ops agent run (plan, status, step results); updated on every change.',
    uri: 'anvil://agent/runs/{id}',
    mimeType: 'application/json',
    scopes: [AGENT_SCOPES.read],
    async read(_uri, variables, { project }) {
      const raw = variables.id;
      const id = decodeURIComponent(Array.isArray(raw) ? (raw[0] ?? '') : (raw ?? ''));
      const run = await runtime().view(project, id);
      if (!run) throw new AnvilError(ErrorCodes.NOT_FOUND, `id: no agent run "${id}" in this project`, { details: { field: 'id' } });
      return { contents: [{ uri: runUri(run.runId), mimeType: 'application/json', text: JSON.stringify(run) }] };
    },
  };
}
