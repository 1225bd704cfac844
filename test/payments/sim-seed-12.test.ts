/** The payments fault simulator, seed 12: holds every invariant through a SIGKILL and restart. */
import { it } from 'node:test';
import { holds } from './sim-support.ts';

it('holds every invariant through a SIGKILL and restart (seed 12, 12 operations)', { timeout: 175_000 }, () => holds(12, 12));
