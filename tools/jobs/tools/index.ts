import type { PluginContext } from 'anvil/plugin';
import type { JobsRuntime } from '../runtime.ts';
import { cancelTool } from './cancel.ts';
import { explainTool } from './explain.ts';
import { jobCurveApp } from './app.ts';
import { getTool } from './get.ts';
import { listTool } from './list.ts';
import { logsTool } from './logs.ts';
import { metricsTool } from './metrics.ts';
import { quotaTool } from './quota.ts';
import { registerJobResources } from './resources.ts';
import { submitTool } from './submit.ts';
import { workersListTool } from './workers-list.ts';
import { workersTelemetryTool } from './workers-telemetry.ts';

export { startHostEvents, startNotifications } from './notifications.ts';

/**
 * Registers the jobs tools and the job resources. `jobs()` throws ANVIL_E_TOOL_UNAVAILABLE until the
 * plugin's onReady has built the runtime, so it is only called inside handlers.
 */
export function registerJobTools(ctx: PluginContext, jobs: () => JobsRuntime): void {
  ctx.tool(submitTool(jobs));
  const curves = jobCurveApp(jobs);
  ctx.tool({ ...getTool(jobs), app: curves.tool });
  for (const resource of curves.resources) ctx.resource(resource);
  ctx.tool(listTool(jobs));
  ctx.tool(logsTool(jobs));
  ctx.tool(metricsTool(jobs));
  ctx.tool(cancelTool(jobs));
  ctx.tool(explainTool(jobs));
  ctx.tool(workersListTool(jobs));
  ctx.tool(workersTelemetryTool(jobs));
  ctx.tool(quotaTool(jobs));
  registerJobResources(ctx, jobs);
}
