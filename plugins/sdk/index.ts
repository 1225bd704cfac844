/**
 * The public plugin API: `import { definePlugin, z } from 'anvil/plugin'`.
 * Built-in skills are written against exactly this module.
 */
export * as z from 'zod';
export { definePlugin, jsonSchemaInput } from './define.ts';
export { MCP_APP_MIME_TYPE, PLUGIN_API_VERSION, PLUGIN_PERMISSIONS } from './types.ts';
/** MCP Apps: one call gives a tool's `app` and the `ui://` resources to register. */
export { mcpApp, type McpApp, type McpAppSpec } from './apps.ts';
export type * from './types.ts';
export { AnvilError, ErrorCodes, errorMessage, isAnvilError, type ErrorCode } from '../../server/errors.ts';
/** Reads a `.sql` file beside the calling module: `loadSql(import.meta.url, './queries/x.sql')`. */
export { loadSql } from '../../server/db/sql.ts';
/** The version of the Anvil the plugin runs in (its package.json's). */
export { anvilVersion } from '../../server/version.ts';
/** Whether a principal's scopes grant `required` (`*` and `<area>:admin` imply the lower levels). */
export { hasScope, OPERATOR_SCOPES } from '../../server/auth/scopes.ts';
