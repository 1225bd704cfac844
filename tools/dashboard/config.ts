/**
 * The dashboard's settings: the `dashboard` section of anvil.config.json (and ANVIL_DASHBOARD_*),
 * parsed once with the rest of the server's config and handed to the built-in plugin.
 */
import { z } from 'anvil/plugin';

export const dashboardConfig = z
  .object({
    /** How long a sign-in lasts (the key is still re-checked on every request). */
    sessionTtlMinutes: z.number().int().min(1).max(43_200).default(720),
    /** How often an open live job stream (GET /ui/api/events) re-reads its key, so a revoked key ends it. */
    streamRecheckSeconds: z.number().int().min(1).max(3_600).default(10),
  })
  .strict();
