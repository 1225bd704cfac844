/**
 * The public plugin API: `import { definePlugin, z } from 'anvil/plugin'`.
 * Built-in skills are written against exactly this module.
 */
export * as z from 'zod';
export { definePlugin, jsonSchemaInput } from './define.ts';
export { PLUGIN_API_VERSION } from './types.ts';
export type * from './types.ts';
export { AnvilError, ErrorCodes, isAnvilError, type ErrorCode } from '../../server/errors.ts';
export { hasScope, OPERATOR_SCOPES } from '../../server/auth/scopes.ts';
