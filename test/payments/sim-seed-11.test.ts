/** The payments fault simulator, seed 11: holds every invariant through a SIGKILL and restart. */
import { it } from 'node:test';
import { holds } from './sim-support.ts';

it('holds every invariant through a SIGKILL and restart (seed 11, 12 operations)', { timeout: 175_000 }, () => holds(11, 12));
