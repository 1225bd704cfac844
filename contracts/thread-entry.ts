/**
 * What `new Worker(entry, { eval })` needs to start the thread module `name` beside the caller
 * (`callerUrl`, its import.meta.url): from a build, the sibling `.js`; from the TypeScript sources,
 * a one-line evaluated bootstrap that loads the `.ts` through tsx's `tsImport`, because tsx's hooks
 * (`register()` or `--import tsx`) do not reach a worker's entry module on Node 20. Used by the
 * embedded PGlite thread (server/db) and the simulated-OOS training thread (gpu-workers).
 */
export function threadEntry(callerUrl: string, name: string): { entry: string | URL; eval: boolean } {
  if (!callerUrl.endsWith('.ts')) return { entry: new URL(`./${name}.js`, callerUrl), eval: false };
  const source = JSON.stringify(new URL(`./${name}.ts`, callerUrl).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return { entry: `import(${tsx}).then((tsx) => tsx.tsImport(${source}, ${JSON.stringify(callerUrl)}))`, eval: true };
}
