/**
 * The run graph: one `step` node that executes the plan's next step and loops until the run is
 * done, checkpointed by LangGraph's PostgresSaver (thread = run id). A step waiting for a person
 * calls `interrupt()`; after a restart the node runs again from its first line, so everything it
 * does before the tool call is a read, and the call itself is guarded by the run_steps record.
 */
import { Annotation, END, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import type { RunStatus } from './store.ts';

export const RunState = Annotation.Root({
  runId: Annotation<string>(),
  /** The plan step to execute next. */
  index: Annotation<number>(),
  /** Set when the run is over, with how it ended. */
  done: Annotation<RunStatus | null>(),
});

export type RunStateValue = typeof RunState.State;
export type RunStateUpdate = typeof RunState.Update;

export function buildRunGraph(step: (state: RunStateValue) => Promise<RunStateUpdate>, checkpointer: BaseCheckpointSaver) {
  return new StateGraph(RunState)
    .addNode('step', step)
    .addEdge(START, 'step')
    .addConditionalEdges('step', (state: RunStateValue) => (state.done ? END : 'step'), ['step', END])
    .compile({ checkpointer });
}
