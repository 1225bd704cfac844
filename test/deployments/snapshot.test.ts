/**
 * deployments_monitor reads one snapshot: while the plugin's own log writer (PredictionLog) keeps
 * committing rows — each a primary row of v1 and its shadow row of v2, in one insert — every
 * answer's parts count the same rows: a variant's requests and errors are the sums of its series
 * buckets, and the shadow pairs are exactly the shadow variant's requests. Read in several queries
 * outside one transaction (as before), a flush landing between them breaks these within a few
 * answers. On embedded PGlite always, on Postgres with DATABASE_URL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestHost, flatten, type TestHost } from 'anvil/testing';
import type { DeploymentsRuntime } from '../../tools/deployment/runtime.ts';
import type { MonitorSeries } from '../../tools/deployment/series.ts';
import { skipUnless } from '../support/backends.ts';
import { deployBareModel } from '../support/deployed-model.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';

const ANSWERS = 40;

interface Answer {
  variants: Array<{ variant: string; shadow: boolean; requests: number; errors: number }>;
  shadow: { pairs: number } | null;
  series: MonitorSeries;
}

/** What disagrees inside one answer (empty: its parts agree). */
function disagreements(answer: Answer): string[] {
  const found: string[] = [];
  for (const variant of answer.variants) {
    const points = answer.series.variants.find((one) => one.variant === variant.variant && one.shadow === variant.shadow)?.points ?? [];
    const requests = points.reduce((sum, point) => sum + point.requests, 0);
    const errors = points.reduce((sum, point) => sum + point.errors, 0);
    if (requests !== variant.requests) found.push(`${variant.variant}: ${variant.requests} requests, ${requests} in the series`);
    if (errors !== variant.errors) found.push(`${variant.variant}: ${variant.errors} errors, ${errors} in the series`);
  }
  const mirrored = answer.variants.find((one) => one.shadow)?.requests ?? 0;
  if ((answer.shadow?.pairs ?? 0) !== mirrored) found.push(`${answer.shadow?.pairs ?? 0} shadow pairs, ${mirrored} shadow requests`);
  return found;
}

for (const backend of ['pglite', 'postgres'] as const) {
  describe(`deployments_monitor reads one snapshot (${backend})`, { skip: backend === 'postgres' ? skipUnless('DATABASE_URL') : undefined }, () => {
    let host: TestHost;
    let db: TempDatabase | undefined;
    let runtime: DeploymentsRuntime;

    before(async () => {
      db = backend === 'postgres' ? await createTempDatabase() : undefined;
      host = await createTestHost({ plugins: [], config: { jobs: { localWorker: 'off' } }, env: db ? { DATABASE_URL: db.url } : {} });
      runtime = await deployBareModel(host, { model: 'snapshot-model', deployment: 'busy' });
    });
    after(async () => {
      await host?.close();
      await db?.drop();
    });

    it('counts, series and shadow pairs agree in every answer while the prediction log is written', async () => {
      let writing = true;
      let written = 0;
      const row = (id: string, shadow: boolean, error: string | null) => ({
        project: 'default',
        request_id: id,
        shadow,
        deployment: 'busy',
        variant: shadow ? 'v2' : 'v1',
        model_version: 1,
        at: new Date().toISOString(),
        latency_ms: 1 + (written % 7),
        batch_size: 1,
        label: 'a',
        top_label: shadow && written % 3 === 0 ? 'b' : 'a',
        probability: 0.9,
        abstained: false,
        threshold: 0.5,
        error,
        input: null,
      });
      // One insert per round (a pair, sometimes two): the log's own batched write, as the request path leaves it.
      const writer = (async () => {
        while (writing) {
          const pairs = written % 5 === 0 ? 2 : 1;
          for (let index = 0; index < pairs; index += 1) {
            const id = `r-${written}`;
            const error = written % 4 === 0 ? 'boom' : null;
            runtime.log.push(row(id, false, error));
            runtime.log.push(row(id, true, error));
            written += 1;
          }
          await runtime.log.flush();
        }
      })();
      const answers: Answer[] = [];
      try {
        for (let index = 0; index < ANSWERS; index += 1) {
          const answer = flatten(await host.client.callTool({ name: 'deployments_monitor', arguments: { name: 'busy', window: 3600, series: { points: 12 } } }));
          assert.equal(answer.isError, false, answer.text);
          answers.push(answer.structured as unknown as Answer);
        }
      } finally {
        writing = false;
        await writer;
      }
      const broken = answers.map((answer, index) => disagreements(answer).map((what) => `answer ${index}: ${what}`)).flat();
      assert.deepEqual(broken, [], `${broken.length} disagreements in ${ANSWERS} answers`);
      // The writes really ran between the answers: the counts moved from one answer to the next.
      const counts = answers.map((answer) => answer.variants.find((one) => !one.shadow)?.requests ?? 0);
      assert.ok(new Set(counts).size > ANSWERS / 2, `the log grew under the monitor: ${counts.join(' ')}`);
    });
  });
}
