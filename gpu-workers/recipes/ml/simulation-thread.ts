/**
 * The thread that runs the simulated-OOS training (abstain.ts `simulateThreshold`) beside the real
 * training: the two are independent (same features, different rows and classes), so on a machine
 * with two cores the threshold costs no wall time beyond the real training. It gets the data as
 * structured-cloned typed arrays and posts back the threshold choice, or an error message. A stop
 * is not signalled to it: the main thread terminates it (a resumed run simulates again, identically).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { simulateThreshold, type AbstainData, type AbstainPolicy, type ThresholdChoice } from './abstain.ts';
import type { TrainSettings } from './trainer.ts';

export interface SimulationRequest {
  readonly data: AbstainData;
  readonly policy: AbstainPolicy;
  readonly settings: TrainSettings;
  readonly scratchFile: string;
}

export type SimulationReply = { readonly type: 'log'; readonly message: string } | { readonly type: 'done'; readonly choice: ThresholdChoice } | { readonly type: 'failed'; readonly message: string };

async function run(port: NonNullable<typeof parentPort>, request: SimulationRequest): Promise<void> {
  const post = (reply: SimulationReply): void => port.postMessage(reply);
  try {
    const choice = await simulateThreshold(request.data, request.policy, request.settings, {
      log: (message) => post({ type: 'log', message }),
      stopRequested: () => false,
      scratchFile: request.scratchFile,
    });
    if (choice === 'stopped') throw new Error('the simulation stopped without a stop request');
    post({ type: 'done', choice });
  } catch (error) {
    post({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
}

if (parentPort) await run(parentPort, workerData as SimulationRequest);
