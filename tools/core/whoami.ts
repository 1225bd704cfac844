import { z } from 'anvil/plugin';
import type { ToolSpec } from 'anvil/plugin';

const input = z.object({}).strict();
const output = z.object({
  principal: z.string(),
  kind: z.enum(['api-key', 'oauth', 'local', 'anonymous']),
  project: z.string(),
  scopes: z.array(z.string()),
});

export const whoamiTool: ToolSpec<typeof input, typeof output> = {
  name: 'anvil_whoami',
  title: 'Who am I',
  description: 'The principal this connection acts as, its project (tenant) and the scopes it holds.',
  input,
  output,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  scopes: [],
  async handler(_input, { principal }) {
    return { principal: principal.id, kind: principal.kind, project: principal.project, scopes: [...principal.scopes] };
  },
};
