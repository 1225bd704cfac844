/**
 * What the control plane's built-in plugins may use of the worker side: the agent and probe (the
 * jobs plugin runs a local worker in `anvil serve`), the control bus, the built-in recipes, and the
 * evaluation recipe's params and result schemas (tools/evaluation submits and reads them). tools/
 * imports gpu-workers/ only through this file (`npm run check:boundaries`); gpu-workers/ itself
 * imports nothing of tools/, server/ or plugins/, only contracts/.
 */
export { JOBS_QUEUE_PREFIX, WorkerAgent, type JobQueues, type QueuedJob, type WorkerAgentOptions } from './agent.ts';
export { localBus, redisBus, type ControlBus } from './bus.ts';
export { probeCapabilities, resourceClassFor, unmetRequirements, type Capabilities } from './probe.ts';
export { recipeTable, unavailableRecipes } from './recipe-table.ts';
export { builtinRecipes } from './recipes/index.ts';
export { commandRecipe } from './recipes/command.ts';
export { EVALUATION_SPLITS, evaluationParams, type EvaluationParams, type EvaluationSplit, type EvaluationSubject, type ModelRole } from './recipes/evaluation/recipe.ts';
export { comparisonSummarySchema, evaluationResultSchema, evaluationSummarySchema } from './recipes/evaluation/summary.ts';
// The trained models' featurizers, which serving (tools/deployment) runs exactly as training did.
export { Featurizer, textFeaturizerSpecSchema } from './recipes/text-classifier/featurizer.ts';
export { TabularFeaturizer, tabularFeaturizerSpecSchema } from './recipes/tabular-classifier/featurizer.ts';
export type { Csr } from './recipes/ml/matrix.ts';
