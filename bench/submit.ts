// Submit throughput: accepted recipients per second of POST /api/messages, 1-recipient and
// 100-recipient requests, 16 in flight, with the sender switched off so that only accepting is
// measured (validation, the opt-out check, the enqueue and the record writes).
// `node dist/bench/submit.js` runs it alone.
import { describeMachine, formatMachine } from './machine.js';
import { isMain, recipients, root, runPool, startBenchStack } from './benchStack.js';

export interface SubmitOptions {
  recipientsPerRequest: number;
  requests: number;
  concurrency: number;
}

export interface SubmitResult extends SubmitOptions {
  seconds: number;
  requestsPerSecond: number;
  recipientsPerSecond: number;
}

export const SUBMIT_DEFAULTS: SubmitOptions[] = [
  { recipientsPerRequest: 1, requests: 1000, concurrency: 16 },
  { recipientsPerRequest: 100, requests: 100, concurrency: 16 },
];

export async function measureSubmit(scenarios: readonly SubmitOptions[] = SUBMIT_DEFAULTS): Promise<SubmitResult[]> {
  const bench = await startBenchStack({ deliveryReportDelayMs: 0, disabled: ['sendSms'] });
  try {
    const warm = await bench.post(recipients(1, 7_000_000), 'warm-up');
    if (warm.status !== 202) throw new Error(`warm-up request answered ${warm.status}`);
    const out: SubmitResult[] = [];
    for (const options of scenarios) {
      const started = performance.now();
      await runPool(options.requests, options.concurrency, async (i) => {
        const result = await bench.post(
          recipients(options.recipientsPerRequest, i * options.recipientsPerRequest),
          `Submitted message ${i}`,
        );
        if (result.status !== 202 || result.accepted !== options.recipientsPerRequest) {
          throw new Error(`request ${i} answered ${result.status} with ${result.accepted} accepted`);
        }
      });
      const seconds = (performance.now() - started) / 1000;
      out.push({
        ...options,
        seconds,
        requestsPerSecond: options.requests / seconds,
        recipientsPerSecond: (options.requests * options.recipientsPerRequest) / seconds,
      });
    }
    return out;
  } finally {
    await bench.stop();
  }
}

if (isMain(import.meta.url)) {
  console.log(formatMachine(describeMachine(root)));
  for (const r of await measureSubmit()) {
    console.log(
      `submit, ${r.recipientsPerRequest}-recipient requests, ${r.concurrency} in flight: ${r.requests} requests in ${r.seconds.toFixed(1)} s = ` +
        `${r.requestsPerSecond.toFixed(1)} requests/s, ${r.recipientsPerSecond.toFixed(0)} accepted recipients/s`,
    );
  }
}
