/** The sandbox's labelled transaction history: seeded, with learnable fraud patterns at a few percent. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { generateHistory, historyCsv, RISK_COLUMNS } from '../../tools/payment/risk/history.ts';

it('replays by seed, labels a few percent as fraud, and the fraud patterns separate from ordinary rows', () => {
  const rows = generateHistory(42, 20_000);
  assert.deepEqual(generateHistory(42, 50), rows.slice(0, 50));
  assert.notDeepEqual(generateHistory(43, 50), rows.slice(0, 50));
  const fraud = rows.filter((row) => row.label === 'fraud');
  assert.ok(fraud.length / rows.length > 0.03 && fraud.length / rows.length < 0.05, String(fraud.length));
  const suspicious = (row: (typeof rows)[number]) => row.attempts_last_hour >= 4 || (row.new_device === 1 && row.country_mismatch === 1 && row.hour <= 5) || ['7995', '5967'].includes(row.merchant_category);
  const rate = (subset: typeof rows) => subset.filter((row) => row.label === 'fraud').length / Math.max(1, subset.length);
  // A simple rule on the patterns finds most fraud, with precision far above the base rate; not all of it (labels are noisy).
  const flagged = rows.filter(suspicious);
  const recall = flagged.filter((row) => row.label === 'fraud').length / fraud.length;
  assert.ok(recall > 0.7 && recall < 0.95, String(recall));
  assert.ok(rate(flagged) > 0.4, String(rate(flagged)));
  const csv = historyCsv(rows.slice(0, 3)).trim().split('\n');
  assert.equal(csv[0], RISK_COLUMNS.join(','));
  assert.equal(csv.length, 4);
});
