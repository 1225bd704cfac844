/**
 * ctx.sql.pool(): a real `pg` Pool on the plugin's database (for libraries such as LangGraph's
 * PostgresSaver), reaching the plugin's own schema by name, one per plugin, ended by the host at
 * close; refused without the `sql` permission.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pool } from 'pg';
import { definePlugin, type PluginContext, type PluginSql } from 'anvil/plugin';
import { createTestHost } from 'anvil/testing';

let pooled: { pool: Pool; again: Pool; sql: PluginSql } | undefined;
let refused: string | undefined;

const owner = definePlugin({
  id: 'pooled',
  version: '1.0.0',
  permissions: ['sql'],
  register(ctx) {
    ctx.migrations(new URL('./fixtures-pool/', import.meta.url));
    pooled = { pool: ctx.sql.pool(), again: ctx.sql.pool(), sql: ctx.sql };
  },
});

const without = definePlugin({
  id: 'poolless',
  version: '1.0.0',
  register(ctx: PluginContext) {
    try {
      ctx.sql.pool();
    } catch (error) {
      refused = (error as { code?: string }).code;
    }
  },
});

test('ctx.sql.pool() gives a pg Pool on the plugin database, ended at close', async () => {
  const host = await createTestHost({ plugins: [owner, { plugin: without, permissions: [] }] });
  try {
    assert.ok(pooled);
    assert.equal(pooled.pool, pooled.again, 'one pool per plugin');
    await pooled.sql.query('insert into {{schema}}.notes (text) values ($1)', ['via ctx.sql']);
    const { rows } = await pooled.pool.query<{ text: string }>(`select text from "${pooled.sql.schema}".notes`);
    assert.deepEqual(rows, [{ text: 'via ctx.sql' }]);
    assert.equal(refused, 'ANVIL_E_PLUGIN_PERMISSION');
  } finally {
    await host.close();
  }
  await assert.rejects(pooled.pool.query('select 1'), /pool|ended|end/i);
});
