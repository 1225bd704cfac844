import { z, type ToolSpec } from 'anvil/plugin';
import type { WorkflowGraph } from '../../../graphs/workflows/types.ts';
import { AGENT_SCOPES } from './schemas.ts';

const input = z.object({}).strict();
const output = z.object({ workflows: z.array(z.object({ name: z.string(), description: z.string(), params: z.record(z.string(), z.unknown()).describe('JSON Schema of its params') })) });

export function workflowsListTool(graphs: () => ReadonlyMap<string, WorkflowGraph>): ToolSpec<typeof input, typeof output> {
  return {
    name: 'workflows_list',
    title: 'List workflows',
    description: 'The workflow graphs workflows_run can run (built in, and contributed by plugins through the graphs extension point), with their parameters.',
    input,
    output,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    scopes: [AGENT_SCOPES.read],
    async handler() {
      return { workflows: [...graphs()].map(([name, graph]) => ({ name, description: graph.description, params: z.toJSONSchema(graph.params, { io: 'input' }) as Record<string, unknown> })) };
    },
  };
}
