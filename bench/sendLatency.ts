// One-time codes: the time from POST /api/messages (one recipient) to the ACS request that carries
// it, as the handset's inbox at the ACS emulator records it — the wait a person with a login screen
// open actually sees, queue hand-over included. Two arrival patterns: steady (a fixed rate, within a
// toll-free pool's 400/min) and sparse (on average one every 4 s, at random, as codes arrive), where
// a queue that polls has gone quiet between messages.
// `node dist/bench/sendLatency.js [steady|sparse] [requests]` runs one pattern alone.
import { SeededRandom } from '../local/acsEmulator/seededRandom.js';
import { describeMachine, formatMachine } from './machine.js';
import { isMain, percentile, recipients, root, startBenchStack } from './benchStack.js';

export type ArrivalPattern = 'steady' | 'sparse';

export interface SendLatencyOptions {
  pattern: ArrivalPattern;
  /** steady: the interval between requests; sparse: the mean of random (exponential) intervals. */
  intervalMs: number;
  requests: number;
}

export interface SendLatencyResult extends SendLatencyOptions {
  /** POST → the ACS request, per request. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** POST → 202, for comparison. */
  acceptedP50Ms: number;
  acceptedP99Ms: number;
  /** Requests not answered 202, or never seen at ACS within 30 s. */
  failed: number;
}

export const SEND_LATENCY_DEFAULTS: Record<ArrivalPattern, SendLatencyOptions> = {
  // 5 requests/s for 20 s: well within the sample pool's 400/min.
  steady: { pattern: 'steady', intervalMs: 200, requests: 100 },
  // On average one every 4 s for about 4 minutes; with 60 samples p99 is the slowest but one.
  sparse: { pattern: 'sparse', intervalMs: 4000, requests: 60 },
};

/** Recipients of this benchmark: apart from every other benchmark's. */
const OFFSET = 5_000_000;

export async function measureSendLatency(options: SendLatencyOptions): Promise<SendLatencyResult> {
  const bench = await startBenchStack({ deliveryReportDelayMs: 0 });
  try {
    for (let i = 0; i < 3; i++) await bench.post(recipients(1, OFFSET - 10 + i), 'warm-up');
    await new Promise((r) => setTimeout(r, 1000));
    const random = new SeededRandom(19);
    const started: number[] = [];
    const accepted: number[] = [];
    let failed = 0;
    const inFlight: Promise<void>[] = [];
    let due = Date.now();
    for (let i = 0; i < options.requests; i++) {
      // Exponential gaps (a Poisson arrival) for sparse traffic: no fixed phase against the queue's polling.
      due += options.pattern === 'steady' ? options.intervalMs : -Math.log(1 - random.next()) * options.intervalMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const [to] = recipients(1, OFFSET + i);
      started[i] = Date.now();
      inFlight.push(
        (async () => {
          const result = await bench.post([to!], `Your code is ${String(100000 + i)}`);
          accepted[i] = Date.now() - started[i]!;
          if (result.status !== 202) failed++;
        })(),
      );
    }
    await Promise.all(inFlight);

    // The ACS request of each: when the emulator put the text in the handset's inbox.
    const latencies: number[] = [];
    const deadline = Date.now() + 30_000;
    for (let i = 0; i < options.requests; i++) {
      const [to] = recipients(1, OFFSET + i);
      let inbox = bench.stack.emulator.inbox(to!);
      while (inbox.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        inbox = bench.stack.emulator.inbox(to!);
      }
      const at = inbox[0] ? Date.parse(inbox[0].receivedAt) : Number.NaN;
      if (Number.isFinite(at)) latencies.push(at - started[i]!);
      else failed++;
    }
    latencies.sort((a, b) => a - b);
    const acceptedSorted = accepted.filter((a) => a !== undefined).sort((a, b) => a - b);
    return {
      ...options,
      p50Ms: percentile(latencies, 50),
      p90Ms: percentile(latencies, 90),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      acceptedP50Ms: percentile(acceptedSorted, 50),
      acceptedP99Ms: percentile(acceptedSorted, 99),
      failed,
    };
  } finally {
    await bench.stop();
  }
}

export function formatSendLatency(r: SendLatencyResult): string {
  const what =
    r.pattern === 'steady'
      ? `steady, one every ${r.intervalMs} ms`
      : `sparse, one every ${(r.intervalMs / 1000).toFixed(0)} s on average`;
  return (
    `one-time codes, POST → ACS request (${what}, ${r.requests} requests): p50 ${r.p50Ms.toFixed(0)} ms, p90 ${r.p90Ms.toFixed(0)} ms, ` +
    `p99 ${r.p99Ms.toFixed(0)} ms, max ${r.maxMs.toFixed(0)} ms; POST → 202 p50 ${r.acceptedP50Ms.toFixed(0)} ms, p99 ${r.acceptedP99Ms.toFixed(0)} ms; failed ${r.failed}`
  );
}

if (isMain(import.meta.url)) {
  console.log(formatMachine(describeMachine(root)));
  const patterns = process.argv[2] ? [process.argv[2] as ArrivalPattern] : (['steady', 'sparse'] as const);
  for (const pattern of patterns) {
    const defaults = SEND_LATENCY_DEFAULTS[pattern];
    if (!defaults) throw new Error(`pattern must be steady or sparse, got ${pattern}`);
    const requests = process.argv[3] ? Number(process.argv[3]) : defaults.requests;
    console.log(formatSendLatency(await measureSendLatency({ ...defaults, requests })));
  }
}
