import * as z from 'zod';
import { defineTool } from '../../server/mcp/tool.ts';

export const whoamiTool = defineTool({
  name: 'anvil_whoami',
  title: 'Who am I',
  description: 'The principal this connection acts as, its project (tenant) and the scopes it holds.',
  input: z.object({}).strict(),
  output: z.object({
    principal: z.string(),
    kind: z.enum(['api-key', 'local', 'anonymous']),
    project: z.string(),
    scopes: z.array(z.string()),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  scopes: [],
  async handler(_input, { principal }) {
    return { principal: principal.id, kind: principal.kind, project: principal.project, scopes: [...principal.scopes] };
  },
});
