/**
 * The shared datasets (`../shared/datasets` beside the repository, read-only, never copied in).
 * Locally a test that needs one skips with the reason when it is absent; in CI (`CI` set, or
 * `ANVIL_TEST_REQUIRE_SERVICES=1` as `.ci/run` sets) its absence is an error, so evidence cannot
 * quietly go missing by skipping.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const sharedDatasetsDir = fileURLToPath(new URL('../../../shared/datasets/', import.meta.url));

/** CI (or an explicit request): shared data and services must be there. */
export function evidenceRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') || env.ANVIL_TEST_REQUIRE_SERVICES === '1';
}

/**
 * Why the shared `files` (paths under ../shared/datasets) cannot be used here, as a skip reason,
 * or null when they all exist. In CI a missing file throws instead: the test file fails, naming it.
 */
export function missingSharedData(files: readonly string[], env: NodeJS.ProcessEnv = process.env): string | null {
  const absent = files.filter((file) => !existsSync(path.join(sharedDatasetsDir, file)));
  if (absent.length === 0) return null;
  const reason = `skipped: ${absent.join(', ')} not found under ${sharedDatasetsDir} (the shared datasets sit beside the repository as ../shared/datasets)`;
  if (evidenceRequired(env)) throw new Error(`${reason.replace(/^skipped: /, '')}; in CI (CI or ANVIL_TEST_REQUIRE_SERVICES=1) the shared datasets are required: tests skip only locally`);
  return reason;
}
