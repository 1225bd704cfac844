/**
 * The job state machine, as data. The store refuses any transition not listed here before it
 * touches SQL; the database then checks that the job is still in the `from` state it was told.
 *
 *   queued ──claim──▶ running ──▶ succeeded | failed | cancelled
 *     │  ▲              │
 *     │  └──requeue─────┘   retry, preemption, or the worker was lost (resumes from its checkpoint)
 *     ├──▶ cancelled        cancelled before it started
 *     └──▶ failed           never started: a dependency failed or was cancelled, or dispatch refused it
 *
 * Terminal states have no way out: a job that should run again is submitted again.
 */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(['succeeded', 'failed', 'cancelled']);

/** from → the states it may move to. */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['succeeded', 'failed', 'cancelled', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value);
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}
