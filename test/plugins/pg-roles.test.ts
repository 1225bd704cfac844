/**
 * On Postgres each third-party plugin granted `sql` runs its SQL as a login role of its own: tried
 * as a hostile plugin, it cannot read another plugin's schema or Anvil's tables, nor switch role.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { definePlugin, z } from 'anvil/plugin';
import { createTestHost, type TestHost } from 'anvil/testing';
import { pluginRoleName } from '../../plugins/host/pg-role.ts';
import { requireService, skipUnless } from '../support/backends.ts';
import { createTempDatabase, type TempDatabase } from '../support/temp-db.ts';

const skip = skipUnless('DATABASE_URL');

function sqlPlugin(id: string, migrations: string) {
  return definePlugin({
    id,
    version: '1.0.0',
    permissions: ['sql'],
    register(ctx) {
      ctx.migrations(migrations);
      ctx.tool({
        name: 'run',
        description: 'Runs one SQL text as this plugin (the hostile part of the test).',
        input: z.object({ text: z.string() }),
        output: z.object({ rows: z.array(z.record(z.string(), z.unknown())) }),
        async handler({ text }, { sql }) {
          return { rows: (await sql.query(text)).rows };
        },
      });
    },
  });
}

describe('plugin roles on Postgres', { skip }, () => {
  let database: TempDatabase;
  let host: TestHost;
  let migrations: string;

  before(async () => {
    requireService('DATABASE_URL');
    database = await createTempDatabase();
    migrations = mkdtempSync(path.join(os.tmpdir(), 'anvil-roles-'));
    writeFileSync(path.join(migrations, '0001_notes.sql'), "create table {{schema}}.notes (body text not null); insert into {{schema}}.notes values ('mine');");
    host = await createTestHost({ plugins: [sqlPlugin('vault', migrations), sqlPlugin('snoop', migrations)], env: { DATABASE_URL: database.url } });
    for (const id of ['vault', 'snoop']) {
      const report = host.server.plugins.reports.find((each) => each.id === id);
      assert.equal(report?.status, 'active', JSON.stringify(report?.error));
    }
  });

  after(async () => {
    await host?.close();
    await database?.drop();
    rmSync(migrations, { recursive: true, force: true });
    // Roles are cluster-wide: remove this database's plugin roles too.
    const admin = new pg.Client({ connectionString: requireService('DATABASE_URL') });
    await admin.connect();
    for (const id of ['vault', 'snoop']) await admin.query(`drop role if exists "${pluginRoleName(database.url, id)}"`).catch(() => {});
    await admin.end();
  });

  const run = (tool: string, text: string) => host.call(tool, { text });

  test("a plugin reads its own schema, as its own role", async () => {
    const own = await run('snoop_run', 'select body, current_user as who from {{schema}}.notes');
    assert.equal(own.isError, false, own.text);
    assert.deepEqual(own.structured?.rows, [{ body: 'mine', who: pluginRoleName(database.url, 'snoop') }]);
  });

  test("another plugin's schema and Anvil's tables are refused", async () => {
    for (const text of ['select * from plugin_vault.notes', 'select * from anvil.api_keys', 'select * from anvil.audit_log', 'select * from anvil.schema_migrations']) {
      const refused = await run('snoop_run', text);
      assert.equal(refused.isError, true, `${text} must be refused: ${refused.text}`);
      assert.match(refused.text, /ANVIL_E_INTERNAL/, text);
    }
    const logged = await run('snoop_run', "select count(*)::int as n from plugin_vault.notes");
    assert.equal(logged.isError, true);
  });

  test('switching role leads nowhere: RESET ROLE keeps the plugin role, SET ROLE to the server user is refused', async () => {
    // One transaction, so the RESET and the reads share a connection.
    const reset = await run('snoop_run', "select set_config('role', 'none', true) as reset, current_user as who");
    assert.equal(reset.isError, false, reset.text);
    assert.deepEqual(reset.structured?.rows, [{ reset: 'none', who: pluginRoleName(database.url, 'snoop') }]);
    const after = await run('snoop_run', 'with _ as (select set_config($$role$$, $$none$$, true)) select count(*)::int as n from plugin_vault.notes');
    assert.equal(after.isError, true, after.text);
    const escalate = await run('snoop_run', "select set_config('role', 'postgres', false)");
    assert.equal(escalate.isError, true, escalate.text);
    const create = await run('snoop_run', 'create schema stolen');
    assert.equal(create.isError, true, create.text);
  });
});
