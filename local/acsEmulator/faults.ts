// Fault injection: whole-request faults (429, 5xx, timeouts) drawn from a script or from the
// configured shares with a seeded PRNG, and per-handset permanent failures.
import { normalizeHandset } from './phoneNumbers.js';
import type { SeededRandom } from './seededRandom.js';
import type { FaultSettings, HandsetFault, RequestFault } from './settings.js';

export class FaultInjector {
  constructor(
    private readonly settings: () => FaultSettings,
    private readonly rng: SeededRandom,
  ) {}

  /** The fault for the next ACS API request: the script first, then the random shares. */
  nextRequestFault(): RequestFault {
    const s = this.settings();
    const scripted = s.script.shift();
    if (scripted) return scripted;
    if (s.throttleShare + s.serverErrorShare + s.timeoutShare <= 0) return 'none';
    const r = this.rng.next();
    if (r < s.throttleShare) return 'throttle';
    if (r < s.throttleShare + s.serverErrorShare) return 'serverError';
    if (r < s.throttleShare + s.serverErrorShare + s.timeoutShare) return 'timeout';
    return 'none';
  }

  /** 500 or 503, half and half. */
  serverErrorStatus(): 500 | 503 {
    return this.rng.chance(0.5) ? 500 : 503;
  }

  handsetFault(to: string): HandsetFault | undefined {
    return this.settings().handsets[normalizeHandset(to)];
  }
}
