import { definePlugin, z } from 'anvil/plugin';

/**
 * The smallest useful Anvil plugin: one tool with a zod input and output schema, and an optional
 * configuration. Third-party tools are namespaced by plugin id, so `greet` is served as
 * `hello_greet`.
 */
export const helloPlugin = definePlugin({
  id: 'hello',
  version: '1.0.0',
  description: 'Greets people: the minimal example plugin.',
  // Optional: validated before `register` runs; a bad value stops the plugin with a message naming the key.
  config: z.object({ greeting: z.string().min(1).max(40).default('Hello') }).strict(),
  register(ctx) {
    ctx.tool({
      name: 'greet',
      title: 'Greet someone',
      description: 'Returns a greeting for the given name.',
      input: z.object({ name: z.string().min(1).max(100).describe('Who to greet') }).strict(),
      output: z.object({ message: z.string(), project: z.string() }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      async handler({ name }, { project }) {
        return { message: `${ctx.config.greeting}, ${name}!`, project };
      },
    });
  },
});

export default helloPlugin;
