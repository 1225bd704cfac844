/**
 * Starts the simulated-OOS training (simulation-thread.ts) in a worker thread, so it runs while the
 * real model trains. From the sources (tsx) the thread imports its TypeScript through tsx's API, as
 * server/db/embedded.ts does for PGlite; from a build it is the sibling `.js`.
 */
import { Worker } from 'node:worker_threads';
import { threadEntry } from '../../../contracts/thread-entry.ts';
import type { ThresholdChoice } from './abstain.ts';
import type { SimulationReply, SimulationRequest } from './simulation-thread.ts';

export interface RunningSimulation {
  /** The threshold choice, once the thread is done (rejects with its error). */
  readonly choice: Promise<ThresholdChoice>;
  /** Ends the thread (on a stop request); `choice` then never settles. */
  stop(): Promise<void>;
}


export function startSimulation(request: SimulationRequest, log: (message: string) => void): RunningSimulation {
  const entry = threadEntry(import.meta.url, 'simulation-thread');
  // stdout: true keeps anything the thread prints off stdout, which carries the protocol's JSON lines.
  const worker = new Worker(entry.entry, { workerData: request, eval: entry.eval, stdout: true, stderr: false });
  worker.stdout.resume();
  let stopped = false;
  const choice = new Promise<ThresholdChoice>((resolve, reject) => {
    worker.on('message', (reply: SimulationReply) => {
      if (reply.type === 'log') log(reply.message);
      else if (reply.type === 'done') resolve(reply.choice);
      else reject(new Error(`simulated-OOS thread: ${reply.message}`));
    });
    worker.once('error', (error) => reject(error));
    worker.once('exit', (code) => {
      if (!stopped) reject(new Error(`the simulated-OOS thread exited (${code}) without a threshold`));
    });
  });
  // A caller that stops the thread does not await `choice`; keep its rejection from being unhandled.
  choice.catch(() => {});
  return {
    choice,
    async stop() {
      stopped = true;
      await worker.terminate();
    },
  };
}
