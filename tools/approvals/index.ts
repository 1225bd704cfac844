/**
 * The built-in `approvals` plugin: the one table of approvals a person gives, and the tools to
 * decide them (approvals_list, approvals_decide, scope approvals:write). Payments and the agent ask
 * through the API its `register` returns (`ctx.use(approvalsPlugin)`); every decision is emitted as
 * `approvals.decided` in its project.
 */
import { definePlugin } from 'anvil/plugin';
import { Approvals, type Approval } from './service.ts';
import { approvalsDecideTool } from './tools/approvals-decide.ts';
import { approvalsListTool } from './tools/approvals-list.ts';

export type { Approval, ApprovalRequest, ApprovalState, Decision } from './service.ts';
export type { Approvals } from './service.ts';
export { askForDecision } from './ask.ts';

export interface ApprovalsApi {
  readonly approvals: Approvals;
  /** Called in-process after every decision, besides the `approvals.decided` event. */
  onDecided(listener: (approval: Approval, project: string) => void): void;
}

export const approvalsPlugin = definePlugin({
  id: 'approvals',
  version: '0.1.0',
  apiVersion: 1,
  description: 'Approvals a person gives for what payments and the agent are about to do, bound to the hash of exactly what is approved',
  permissions: ['sql'],
  register(ctx): ApprovalsApi {
    ctx.migrations(new URL('./migrations/', import.meta.url));
    const listeners: Array<(approval: Approval, project: string) => void> = [];
    const approvals = new Approvals(ctx.sql, (approval, project) => {
      ctx.emit('decided', { approvalId: approval.id, kind: approval.kind, subject: approval.subject, state: approval.state, hash: approval.hash }, project);
      for (const listener of listeners) {
        try {
          listener(approval, project);
        } catch (error) {
          ctx.log.warn({ err: error, approvalId: approval.id }, 'an approvals.decided listener threw');
        }
      }
    });
    ctx.tool(approvalsListTool(approvals));
    ctx.tool(approvalsDecideTool(approvals));
    return { approvals, onDecided: (listener) => listeners.push(listener) };
  },
});
