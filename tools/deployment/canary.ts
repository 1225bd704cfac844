/**
 * The canary controller. Every server runs it on a schedule, but a step happens only inside a
 * transaction holding the controller's advisory lock and the deployment's row lock: two servers
 * never both step a rollout, and a server that dies mid-step leaves nothing half done (its
 * transaction rolls back). Each tick, per rollout under way, the guardrails are read on the
 * candidate since the rollout started:
 * - one that fails with at least minSamples samples → roll back: the candidate to 0%, the stable
 *   variant to 100%, the reason in the deployment's history and (clearing the `canary` alias) the
 *   registry's alias history;
 * - one short of minSamples when the step's pause is over → paused (never rolled back on thin data),
 *   resumed by itself once the samples are there;
 * - all passing and the pause over → the next step (or, after the last, promotion: `champion`
 *   moves to the candidate, which takes 100%). A step with untilApproved waits for approval.
 * Deployments that follow their alias are moved to where it points (when no rollout is under way).
 */
import type { Logger, SqlExecutor } from 'anvil/plugin';
import { readWindow, reading, summarize } from './observe.ts';
import type { DeploymentsRuntime } from './runtime.ts';
import type { Deployment, GuardrailReading, Rollout, Variant } from './schema.ts';
import { variantName } from './schema.ts';
import { readSnapshot } from './sql.ts';
import type { ChangeDecision } from './store.ts';

export const CANARY_ALIAS = 'canary';
export const CHAMPION_ALIAS = 'champion';
const CONTROLLER = 'controller';

export const isActive = (rollout: Rollout | null): rollout is Rollout => rollout !== null && ['progressing', 'paused', 'awaiting-approval'].includes(rollout.state);

export function weightsFor(rollout: Rollout, percent: number, stableVersion: number): Variant[] {
  const variants: Variant[] = [];
  if (percent < 100) variants.push({ name: rollout.stable, version: stableVersion, weight: 100 - percent });
  if (percent > 0) variants.push({ name: rollout.candidate, version: rollout.candidateVersion, weight: percent });
  return variants;
}

export function stableVersion(rollout: Rollout): number {
  return Number(rollout.stable.slice(1));
}

export async function readGuardrails(runtime: DeploymentsRuntime, deployment: Deployment, rollout: Rollout): Promise<GuardrailReading[]> {
  const since = new Date(rollout.startedAt);
  // One snapshot, as deployments_monitor reads: every guardrail of one decision sees the same log rows.
  const rows = await readSnapshot(runtime.sql, (tx) => readWindow(tx, deployment, since, rollout.candidate));
  const report = await summarize({ registry: runtime.registry, datasets: () => runtime.datasets().store }, deployment, since, rows);
  const candidate = report.variants.find((v) => v.variant === rollout.candidate && !v.shadow);
  return rollout.guardrails.map((g) => {
    const { value, samples } = reading(candidate, g.metric);
    const holds = value !== null && (g.op === '<' ? value < g.threshold : g.op === '<=' ? value <= g.threshold : g.op === '>' ? value > g.threshold : value >= g.threshold);
    const status = samples < g.minSamples || value === null ? 'insufficient' : holds ? 'pass' : 'fail';
    return { metric: g.metric, op: g.op, threshold: g.threshold, value, samples, minSamples: g.minSamples, status };
  });
}

const describe = (r: GuardrailReading) => `${r.metric} ${r.value === null ? 'unknown' : Number(r.value.toFixed(4))} (n=${r.samples}) is not ${r.op} ${r.threshold}`;

/** The decision for one rollout at `now`, from its guardrail readings. */
export function decide(deployment: Deployment, rollout: Rollout, readings: GuardrailReading[], now: number, serverId: string): ChangeDecision {
  const failed = readings.filter((r) => r.status === 'fail');
  const stable = stableVersion(rollout);
  if (failed.length > 0) {
    const reason = `guardrail failed: ${failed.map(describe).join('; ')}`;
    return {
      change: { rollout: { ...rollout, state: 'rolled-back', reason, readings, controller: serverId }, variants: [{ name: rollout.stable, version: stable, weight: 100 }] },
      action: 'canary_rolled_back',
      detail: { candidate: rollout.candidate, reason, readings },
    };
  }
  const step = rollout.steps[rollout.stepIndex];
  if (!step) return null;
  const elapsed = (now - Date.parse(rollout.stepStartedAt)) / 1000;
  if (step.untilApproved) {
    if (rollout.state === 'awaiting-approval') return null;
    return { change: { rollout: { ...rollout, state: 'awaiting-approval', readings, reason: 'waiting for approval (deployments_canary action approve)', controller: serverId } }, action: 'canary_awaiting_approval', detail: { step: rollout.stepIndex } };
  }
  if (elapsed < (step.pauseSeconds ?? 0)) {
    if (rollout.state === 'progressing' && JSON.stringify(readings) === JSON.stringify(rollout.readings)) return null;
    // Keep the readings fresh for deployments_get without writing history on every tick.
    return rollout.state === 'progressing' ? { change: { rollout: { ...rollout, readings } }, action: '', detail: {} } : null;
  }
  const short = readings.filter((r) => r.status === 'insufficient');
  if (short.length > 0) {
    const reason = `paused: too few samples — ${short.map((r) => `${r.metric} has ${r.samples} of ${r.minSamples}`).join('; ')}`;
    if (rollout.state === 'paused' && rollout.reason === reason) return null;
    return { change: { rollout: { ...rollout, state: 'paused', reason, readings, controller: serverId } }, action: rollout.state === 'paused' ? '' : 'canary_paused', detail: { reason } };
  }
  return advance(deployment, rollout, readings, serverId);
}

export function advance(deployment: Deployment, rollout: Rollout, readings: GuardrailReading[], serverId: string): ChangeDecision {
  const next = rollout.stepIndex + 1;
  const stable = stableVersion(rollout);
  if (next >= rollout.steps.length) {
    return {
      change: { rollout: { ...rollout, state: 'completed', reason: 'every step passed; promoted', readings, controller: serverId }, variants: [{ name: rollout.candidate, version: rollout.candidateVersion, weight: 100 }] },
      action: 'promoted',
      detail: { candidate: rollout.candidate, from: rollout.stable, by: 'canary' },
    };
  }
  const percent = (rollout.steps[next] as Rollout['steps'][number]).percent;
  return {
    change: { rollout: { ...rollout, stepIndex: next, state: 'progressing', stepStartedAt: new Date().toISOString(), reason: null, readings, controller: serverId }, variants: weightsFor(rollout, percent, stable) },
    action: 'canary_step',
    detail: { step: next, percent, controller: serverId },
  };
}

/** Moves the registry's aliases after a rollout ended (outside the deployment's transaction: the registry has its own). */
export async function recordInRegistry(runtime: DeploymentsRuntime, deployment: Deployment, action: string, by: string): Promise<void> {
  const rollout = deployment.rollout;
  if (!rollout) return;
  const registry = runtime.registry();
  if (action === 'canary_rolled_back') await registry.setAlias(deployment.project, deployment.model, CANARY_ALIAS, null, by, `deployment ${deployment.name}: rolled back — ${rollout.reason ?? ''}`.slice(0, 1000));
  if (action === 'promoted') {
    await registry.setAlias(deployment.project, deployment.model, CHAMPION_ALIAS, rollout.candidateVersion, by, `deployment ${deployment.name}: canary of ${rollout.candidate} promoted`);
    await registry.setAlias(deployment.project, deployment.model, CANARY_ALIAS, null, by, `deployment ${deployment.name}: promoted`);
  }
}

/**
 * One controller tick (every server calls it; only the lock holder acts). Everything it reads runs
 * before the transaction: on embedded PGlite a query on another connection waits for an open
 * transaction to end, so the transaction itself only locks, decides and writes.
 */
export async function controllerTick(runtime: DeploymentsRuntime, log: Logger): Promise<void> {
  const targets = await runtime.store.controlled();
  if (targets.length === 0) return;
  const plans: Array<{ current: Deployment; readings: GuardrailReading[]; followTo: number | null }> = [];
  for (const { project, name } of targets) {
    const current = await runtime.store.get(project, name);
    const readings = isActive(current.rollout) ? await readGuardrails(runtime, current, current.rollout) : [];
    const followTo = !isActive(current.rollout) && current.followAlias && current.alias ? (await runtime.registry().resolve(project, current.model, current.alias)).version : null;
    plans.push({ current, readings, followTo });
  }
  const ended: Array<{ deployment: Deployment; action: string }> = [];
  await runtime.store.asController(async (tx: SqlExecutor) => {
    for (const { current, readings, followTo } of plans) {
      const result = await runtime.store.change(
        current.project,
        current.name,
        CONTROLLER,
        (d) => {
          // Decided on the row as locked now: another server may have stepped it since it was read.
          if (isActive(d.rollout)) return d.generation === current.generation ? decide(d, d.rollout, readings, Date.now(), runtime.serverId) : null;
          if (followTo !== null && !(d.variants.length === 1 && d.variants[0]?.version === followTo)) {
            return { change: { variants: [{ name: variantName(followTo), version: followTo, weight: 100 }] }, action: 'followed_alias', detail: { alias: d.alias, version: followTo } };
          }
          return null;
        },
        tx,
      );
      if (!result.changed) continue;
      runtime.service.remember(result.deployment);
      const state = result.deployment.rollout?.state;
      const action = state === 'rolled-back' && current.rollout?.state !== 'rolled-back' ? 'canary_rolled_back' : state === 'completed' && current.rollout?.state !== 'completed' ? 'promoted' : null;
      if (action) {
        ended.push({ deployment: result.deployment, action });
        log.info({ deployment: current.name, project: current.project, action, reason: result.deployment.rollout?.reason }, 'rollout ended');
      }
    }
  });
  for (const { deployment, action } of ended) await recordInRegistry(runtime, deployment, action, CONTROLLER).catch((error: unknown) => log.warn({ err: error, deployment: deployment.name }, 'could not record the rollout in the registry'));
}
