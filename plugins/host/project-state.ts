import type { Storage } from '../../server/db/storage.ts';

const readSql = 'select plugin_id from anvil.project_plugins where project_id = $1 and not enabled';
const ensureProjectSql = 'insert into anvil.projects (id, name) values ($1, $1) on conflict (id) do nothing';
const writeSql = `
insert into anvil.project_plugins (project_id, plugin_id, enabled, updated_by)
values ($1, $2, $3, $4)
on conflict (project_id, plugin_id) do update set enabled = excluded.enabled, updated_at = now(), updated_by = excluded.updated_by`;

/**
 * Which plugins each project has switched off. Read through a short cache so that a tool call costs
 * no extra query; a change made on this server applies at once, one made on another server within
 * `ttlMs`.
 */
export class ProjectPluginState {
  private readonly cache = new Map<string, { disabled: ReadonlySet<string>; expiresAt: number; loading?: Promise<ReadonlySet<string>> }>();

  constructor(
    private readonly storage: Storage,
    private readonly ttlMs = 2_000,
  ) {}

  async disabled(project: string): Promise<ReadonlySet<string>> {
    const now = Date.now();
    const cached = this.cache.get(project);
    if (cached && cached.expiresAt > now) return cached.disabled;
    if (cached?.loading) return cached.loading;
    const loading = this.storage.query<{ plugin_id: string }>(readSql, [project]).then((result) => {
      const disabled = new Set(result.rows.map((row) => row.plugin_id));
      this.cache.set(project, { disabled, expiresAt: Date.now() + this.ttlMs });
      return disabled;
    });
    this.cache.set(project, { disabled: cached?.disabled ?? new Set(), expiresAt: 0, loading });
    try {
      return await loading;
    } catch (error) {
      this.cache.delete(project);
      throw error;
    }
  }

  async set(project: string, pluginId: string, enabled: boolean, by: string): Promise<void> {
    await this.storage.transaction(async (client) => {
      await client.query(ensureProjectSql, [project]);
      await client.query(writeSql, [project, pluginId, enabled, by]);
    });
    this.cache.delete(project);
  }
}
