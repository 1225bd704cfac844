import { AnvilError, ErrorCodes, z, type ToolSpec } from 'anvil/plugin';
import { advance, CANARY_ALIAS, isActive, weightsFor } from '../canary.ts';
import { deploymentNameSchema, guardrailSchema, invalid, LIMITS, stepSchema, variantName, type Rollout } from '../schema.ts';
import type { Ready } from '../runtime.ts';
import { deploymentView, toView } from './view.ts';

const input = z
  .object({
    name: deploymentNameSchema,
    action: z.enum(['start', 'approve']).default('start').describe('start a canary, or approve a step that waits (untilApproved)'),
    candidate: z.union([z.number().int().min(1), z.string().min(1).max(40)]).optional().describe('The candidate model version (or an alias of it); for start'),
    steps: z.array(stepSchema).min(1).max(LIMITS.stepsMax).optional().describe('e.g. [{percent: 10, pauseSeconds: 300}, {percent: 50, pauseSeconds: 600}, {percent: 100, untilApproved: true}]'),
    guardrails: z.array(guardrailSchema).max(LIMITS.guardrailsMax).default([]).describe('e.g. [{metric: "accuracy", op: ">=", threshold: 0.85, minSamples: 50}]'),
  })
  .strict();

export function canaryTool(ready: Ready): ToolSpec<typeof input, typeof deploymentView> {
  return {
    name: 'deployments_canary',
    title: 'Roll out a candidate version step by step',
    description:
      'Starts a canary of a candidate version: traffic moves to it in steps that advance by themselves while every guardrail holds ' +
      '(metrics: error_rate, p99_latency_ms, abstain_rate, accuracy from feedback, psi drift). A failing guardrail rolls back to 0% and records why; ' +
      'a guardrail short of minSamples pauses instead. After the last step the candidate is promoted (alias champion). action approve lets a step with untilApproved go on.',
    input,
    output: deploymentView,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scopes: ['deployments:write'],
    async handler(args, { project, principal, audit }) {
      const runtime = ready();
      if (args.action === 'approve') {
        const { deployment } = await runtime.store.change(project, args.name, principal.id, (d) => {
          if (!isActive(d.rollout) || d.rollout.state !== 'awaiting-approval') throw new AnvilError(ErrorCodes.CONFLICT, `deployment "${d.name}" has no rollout step waiting for approval`, { details: { field: 'action' } });
          return advance(d, d.rollout, d.rollout.readings, runtime.serverId);
        });
        runtime.service.remember(deployment);
        return toView(deployment);
      }
      if (args.candidate === undefined) throw invalid('candidate: give the version (or an alias) to roll out', 'candidate');
      if (!args.steps) throw invalid('steps: give at least one step {percent, pauseSeconds | untilApproved}', 'steps');
      const steps = args.steps;
      const current = await runtime.store.get(project, args.name);
      const candidate = await runtime.registry().resolve(project, current.model, args.candidate);
      const { deployment } = await runtime.store.change(project, args.name, principal.id, (d) => {
        if (isActive(d.rollout)) throw new AnvilError(ErrorCodes.CONFLICT, `a canary of ${d.rollout.candidate} is already under way on "${d.name}"`, { details: { field: 'name' } });
        const serving = d.variants.filter((v) => v.weight > 0);
        const stable = serving[0];
        if (serving.length !== 1 || !stable) throw new AnvilError(ErrorCodes.CONFLICT, `deployment "${d.name}" splits traffic between ${serving.map((v) => v.name).join(', ')}; set one variant to 100% before a canary`, { details: { field: 'name' } });
        if (stable.version === candidate.version) throw invalid(`candidate: version ${candidate.version} is what the deployment serves already`, 'candidate');
        const now = new Date().toISOString();
        const rollout: Rollout = {
          stable: stable.name,
          candidate: variantName(candidate.version),
          candidateVersion: candidate.version,
          steps,
          guardrails: args.guardrails,
          stepIndex: 0,
          state: 'progressing',
          startedAt: now,
          stepStartedAt: now,
          reason: null,
          readings: [],
          controller: null,
        };
        return { change: { rollout, variants: weightsFor(rollout, (steps[0] as Rollout['steps'][number]).percent, stable.version) }, action: 'canary_started', detail: { candidate: rollout.candidate, stable: stable.name, steps, guardrails: args.guardrails } };
      });
      runtime.service.remember(deployment);
      await runtime.registry().setAlias(project, deployment.model, CANARY_ALIAS, candidate.version, principal.id, `deployment ${deployment.name}: canary started`);
      audit({ deployment: args.name, candidate: candidate.version });
      return toView(deployment);
    },
  };
}
