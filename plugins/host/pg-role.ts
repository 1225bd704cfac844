/**
 * On Postgres, each third-party plugin granted `sql` talks to the database as a login role of its
 * own that owns its schema and nothing else: its SQL cannot read another plugin's schema or Anvil's
 * tables, and since the role is the session user (not a `SET ROLE`), `RESET ROLE` leads nowhere.
 * PGlite has one user, so there the schema is a namespace, not a boundary (docs/plugins.md).
 */
import { createHmac } from 'node:crypto';
import { AnvilError, ErrorCodes, errorMessage } from '../../server/errors.ts';
import { PgStorage, type SqlClient, type Storage } from '../../server/db/storage.ts';
import { pluginSchemaName } from './scoped.ts';

/** Where a roled plugin's migration ledger lives: in its own schema, which only it may write. */
export const PLUGIN_LEDGER = 'anvil_migrations';

const POOL_SIZE = 4;

/**
 * `anvil_p_<database hash>_<id>`: roles are cluster-wide, so two databases (two deployments, or
 * test databases) on one cluster each get their own role for the same plugin.
 */
export function pluginRoleName(databaseUrl: string, pluginId: string): string {
  const database = new URL(databaseUrl).pathname.slice(1) || 'postgres';
  const tag = createHmac('sha256', 'anvil-plugin-role').update(database).digest('hex').slice(0, 8);
  return `anvil_p_${tag}_${pluginId.replaceAll('-', '_')}`;
}

/**
 * Derived from the server's own DATABASE_URL, which plugins are never handed: every server of one
 * deployment computes the same password without storing it anywhere.
 */
function rolePassword(databaseUrl: string, role: string): string {
  return createHmac('sha256', databaseUrl).update(`anvil-plugin-role:${role}`).digest('hex');
}

async function transferOwnership(client: SqlClient, schema: string, role: string): Promise<void> {
  const owned = async (kinds: string[]) =>
    (
      await client.query<{ name: string; kind: string }>(
        `select c.relname as name, c.relkind as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and c.relkind = any($2) and pg_get_userbyid(c.relowner) <> $3`,
        [schema, kinds, role],
      )
    ).rows;
  // Tables first: their owned sequences (serial, identity) follow them.
  for (const { name } of await owned(['r', 'p', 'f'])) await client.query(`alter table "${schema}"."${name}" owner to "${role}"`);
  const statement: Record<string, string> = { S: 'sequence', v: 'view', m: 'materialized view' };
  for (const { name, kind } of await owned(['S', 'v', 'm'])) await client.query(`alter ${statement[kind]} "${schema}"."${name}" owner to "${role}"`);
}

/**
 * Creates (or refreshes) the plugin's role, gives it the plugin's schema (moving over what earlier
 * versions created there as the server's role, and the plugin's rows of the core migration ledger),
 * and opens a small pool that logs in as it. Needs a server role that may create roles.
 */
export async function openPluginRoleStorage(server: Storage, databaseUrl: string, pluginId: string): Promise<Storage> {
  const role = pluginRoleName(databaseUrl, pluginId);
  const schema = pluginSchemaName(pluginId);
  const password = rolePassword(databaseUrl, role);
  try {
    await server.transaction(async (client) => {
      // Serialises servers starting together (role and schema DDL race otherwise).
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [`anvil-plugin-role:${role}`]);
      const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
      const attributes = `login password '${password}' nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls`;
      await client.query(exists.rowCount ? `alter role "${role}" ${attributes}` : `create role "${role}" ${attributes}`);
      const superuser = await client.query<{ rolsuper: boolean }>('select rolsuper from pg_roles where rolname = current_user');
      // A non-superuser may hand objects to a role only as a member of it.
      if (!superuser.rows[0]?.rolsuper) await client.query(`grant "${role}" to current_user`);
      await client.query(`create schema if not exists "${schema}" authorization "${role}"`);
      await client.query(`alter schema "${schema}" owner to "${role}"`);
      await client.query(`revoke all on schema "${schema}" from public`);
      await transferOwnership(client, schema, role);
      await client.query(
        `create table if not exists "${schema}".${PLUGIN_LEDGER} (scope text not null, version integer not null, name text not null,
           checksum text not null, applied_at timestamptz not null default now(), primary key (scope, version))`,
      );
      await client.query(`alter table "${schema}".${PLUGIN_LEDGER} owner to "${role}"`);
      const core = await client.query<{ present: boolean }>("select to_regclass('anvil.schema_migrations') is not null as present");
      if (core.rows[0]?.present) {
        await client.query(
          `insert into "${schema}".${PLUGIN_LEDGER} (scope, version, name, checksum, applied_at)
             select scope, version, name, checksum, applied_at from anvil.schema_migrations where scope = $1 or scope like $2
           on conflict do nothing`,
          [pluginId, `${pluginId}/%`],
        );
      }
    });
  } catch (error) {
    throw new AnvilError(
      ErrorCodes.PLUGIN_REGISTER_FAILED,
      `Plugin ${pluginId} needs its own Postgres role (${role}) to use SQL, and the server could not set it up: ${errorMessage(error)}. ` +
        "Give Anvil's database user CREATEROLE, or do not grant this plugin the sql permission.",
      { cause: error },
    );
  }
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = password;
  return new PgStorage({ kind: 'postgres', connection: { connectionString: url.toString(), max: POOL_SIZE } });
}
