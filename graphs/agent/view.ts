/** A run as tools and resources show it. */
import type { Plan } from '../plan.ts';
import type { RunRow, RunStatus, StepRow, StepState } from './store.ts';

export interface StepView {
  id: string;
  tool: string;
  state: StepState | 'pending';
  argsHash: string | null;
  approvalId: string | null;
  attempts: number;
  result: unknown;
  error: { code: string; message: string } | null;
}

export interface RunView {
  runId: string;
  threadId: string;
  command: string;
  planner: string;
  status: RunStatus;
  dryRun: boolean;
  plan: Plan;
  approvalRequired: string[];
  steps: StepView[];
  error: { code: string; message: string; step?: string } | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());

export function runView(run: RunRow, steps: readonly StepRow[]): RunView {
  const recorded = new Map(steps.map((step) => [step.step_id, step]));
  return {
    runId: run.id,
    threadId: run.thread_id,
    command: run.command,
    planner: run.planner,
    status: run.status,
    dryRun: run.dry_run,
    plan: run.plan,
    approvalRequired: run.approval_required,
    steps: run.plan.steps.map((step) => {
      const row = recorded.get(step.id);
      return {
        id: step.id,
        tool: step.tool,
        state: row?.state ?? 'pending',
        argsHash: row?.args_hash ?? null,
        approvalId: row?.approval_id ?? null,
        attempts: row?.attempts ?? 0,
        result: row?.result ?? null,
        error: row?.error ?? null,
      };
    }),
    error: run.error,
    createdAt: iso(run.created_at),
    updatedAt: iso(run.updated_at),
    finishedAt: run.finished_at === null ? null : iso(run.finished_at),
  };
}
