// End-to-end throughput: recipients per second from the first POST /api/messages to the last
// `delivered` recorded, with the ACS emulator at zero latency and no rate limit, and the function
// host's peak resident memory over the run. `node dist/bench/endToEnd.js` runs it alone.
import { describeMachine, formatMachine } from './machine.js';
import { isMain, personalisedTexts, recipients, root, runPool, startBenchStack, type BenchStack } from './benchStack.js';
import { cpuMeter } from './processCpu.js';

export interface EndToEndOptions {
  recipientsPerRequest: number;
  requests: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** personalised: a text of its own per recipient (default uniform: one text per request). */
  shape?: 'uniform' | 'personalised';
}

export interface EndToEndResult extends EndToEndOptions {
  recipients: number;
  seconds: number;
  recipientsPerSecond: number;
  /** Time to get every request accepted (the sender runs at the same time). */
  submitSeconds: number;
  hostPeakRssMiB?: number;
  executions: Record<string, number>;
  verifiedBatches: number;
  /** CPU milliseconds per recipient spent by the host, Azurite and the bench process (load and ACS emulator). */
  cpuMsPerRecipient: Record<string, number | undefined>;
}

export const END_TO_END_DEFAULTS: Record<'one' | 'hundred' | 'personalised', EndToEndOptions> = {
  one: { recipientsPerRequest: 1, requests: 1500, concurrency: 16 },
  hundred: { recipientsPerRequest: 100, requests: 50, concurrency: 4 },
  // 1,000 personal reminders per request, every text different (issue 19).
  personalised: { recipientsPerRequest: 1000, requests: 5, concurrency: 2, shape: 'personalised' },
};

/** Delivery reports arrive as soon as ACS accepts; Event Grid pushes them as fast as the subscriber takes them. */
export const END_TO_END_EMULATOR = { eventGrid: { maxConcurrentDeliveries: 16 } };

export async function measureEndToEnd(
  options: EndToEndOptions,
  log: (line: string) => void = () => undefined,
): Promise<EndToEndResult> {
  const bench = await startBenchStack({ deliveryReportDelayMs: 0, emulator: END_TO_END_EMULATOR });
  try {
    return await run(bench, options, log);
  } finally {
    await bench.stop();
  }
}

async function run(bench: BenchStack, options: EndToEndOptions, log: (line: string) => void): Promise<EndToEndResult> {
  // Warm up: the first request loads the SDKs and opens connections; it is not part of the figure.
  const warm = await bench.post(recipients(options.recipientsPerRequest, 7_000_000), 'warm-up');
  if (warm.status !== 202) throw new Error(`warm-up request answered ${warm.status}`);
  await bench.waitForApplied(options.recipientsPerRequest, 60_000);
  bench.resetCounters();

  const total = options.requests * options.recipientsPerRequest;
  const batchIds: string[] = [];
  const cpu = cpuMeter(bench.processes);
  const started = performance.now();
  await runPool(options.requests, options.concurrency, async (i) => {
    const to = recipients(options.recipientsPerRequest, i * options.recipientsPerRequest);
    const result =
      options.shape === 'personalised'
        ? await bench.postPersonalised(to, personalisedTexts(options.recipientsPerRequest, i * options.recipientsPerRequest))
        : await bench.post(to, `Benchmark message ${i}`);
    if (result.status !== 202 || result.accepted !== options.recipientsPerRequest || !result.batchId) {
      throw new Error(`request ${i} answered ${result.status} with ${result.accepted} accepted`);
    }
    batchIds.push(result.batchId);
  });
  const submitted = performance.now();
  log(`  ${total} recipients accepted in ${((submitted - started) / 1000).toFixed(1)} s; waiting for delivery reports`);
  await bench.waitForApplied(total, 240_000);
  const finished = performance.now();
  const cpuSeconds = cpu();
  const executions = Object.fromEntries(bench.executions);

  // Every batch (at most 60 checked) must show all its messages delivered.
  const sample = batchIds.filter((_, i) => i % Math.max(1, Math.floor(batchIds.length / 60)) === 0);
  for (const batchId of sample) {
    const response = await fetch(`${bench.stack.hostUrl}/api/batches/${batchId}?limit=1`);
    const body = (await response.json()) as { counts?: Record<string, number> };
    if (body.counts?.delivered !== options.recipientsPerRequest) {
      throw new Error(`batch ${batchId} is not all delivered: ${JSON.stringify(body.counts)}`);
    }
  }

  const seconds = (finished - started) / 1000;
  const peak = bench.hostPeakRssMiB();
  return {
    ...options,
    recipients: total,
    seconds,
    recipientsPerSecond: total / seconds,
    submitSeconds: (submitted - started) / 1000,
    ...(peak !== undefined ? { hostPeakRssMiB: peak } : {}),
    executions,
    verifiedBatches: sample.length,
    cpuMsPerRecipient: Object.fromEntries(
      Object.entries(cpuSeconds).map(([k, v]) => [k, v === undefined ? undefined : (v * 1000) / total]),
    ),
  };
}

if (isMain(import.meta.url)) {
  console.log(formatMachine(describeMachine(root)));
  const only = process.argv[2] as keyof typeof END_TO_END_DEFAULTS | undefined;
  if (only && !END_TO_END_DEFAULTS[only])
    throw new Error(`scenario must be one of ${Object.keys(END_TO_END_DEFAULTS).join(', ')}`);
  for (const options of only ? [END_TO_END_DEFAULTS[only]] : Object.values(END_TO_END_DEFAULTS)) {
    const r = await measureEndToEnd(options, console.log);
    console.log(
      `end to end, ${r.recipientsPerRequest}-recipient ${r.shape === 'personalised' ? 'personalised ' : ''}requests: ${r.recipients} recipients in ${r.seconds.toFixed(1)} s = ` +
        `${r.recipientsPerSecond.toFixed(1)} recipients/s; host peak RSS ${r.hostPeakRssMiB ?? '?'} MiB; executions ${JSON.stringify(r.executions)}; ` +
        `CPU ms per recipient ${JSON.stringify(r.cpuMsPerRecipient, (_, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`,
    );
  }
}
