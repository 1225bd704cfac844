/** Output schemas the models tools share. */
import { z } from 'anvil/plugin';
import { MODEL_TASKS } from '../schema.ts';

export const modelSummarySchema = z.object({
  name: z.string(),
  description: z.string().nullable(),
  created: z.string(),
  createdBy: z.string(),
  latestVersion: z.number().int().nullable(),
  latestTask: z.enum(MODEL_TASKS).nullable(),
  latestCreatedAt: z.string().nullable(),
  versionCount: z.number().int(),
  aliases: z.record(z.string(), z.number().int()).describe('alias → version'),
});

export const versionSummarySchema = z.object({
  version: z.number().int(),
  task: z.enum(MODEL_TASKS),
  recipe: z.string(),
  status: z.enum(['ready']),
  metrics: z.record(z.string(), z.unknown()),
  jobId: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  aliases: z.array(z.string()).describe('Aliases pointing at this version'),
});

/** A version reference as tools take it: a number, an alias name, or "latest". */
export const versionRefSchema = z
  .union([z.number().int().min(1), z.string().min(1).max(40)])
  .describe('A version number, an alias (e.g. "champion") or "latest"');
