// Latency of POST /api/messages for one recipient at a steady load: requests are started at a
// fixed rate whatever the answers take (an open loop, as independent clients behave), while the
// whole pipeline runs — the sender and the delivery reports compete for the same machine.
// `node dist/bench/latency.js [requests per second]` runs it alone.
import { describeMachine, formatMachine } from './machine.js';
import { isMain, percentile, recipients, root, startBenchStack } from './benchStack.js';
import { END_TO_END_EMULATOR } from './endToEnd.js';

export interface LatencyOptions {
  ratePerSecond: number;
  seconds: number;
}

export interface LatencyResult extends LatencyOptions {
  requests: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests not answered 202. */
  failed: number;
}

export const LATENCY_DEFAULTS: LatencyOptions = { ratePerSecond: 25, seconds: 20 };

export async function measureLatency(options: LatencyOptions = LATENCY_DEFAULTS): Promise<LatencyResult> {
  const bench = await startBenchStack({ deliveryReportDelayMs: 0, emulator: END_TO_END_EMULATOR });
  try {
    for (let i = 0; i < 5; i++) await bench.post(recipients(1, 7_000_000 + i), 'warm-up');
    const total = Math.round(options.ratePerSecond * options.seconds);
    const latencies: number[] = [];
    let failed = 0;
    const inFlight: Promise<void>[] = [];
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / options.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(
        (async () => {
          const sent = performance.now();
          const result = await bench.post(recipients(1, i), `Latency message ${i}`);
          latencies.push(performance.now() - sent);
          if (result.status !== 202) failed++;
        })(),
      );
    }
    await Promise.all(inFlight);
    latencies.sort((a, b) => a - b);
    return {
      ...options,
      requests: total,
      p50Ms: percentile(latencies, 50),
      p90Ms: percentile(latencies, 90),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      failed,
    };
  } finally {
    await bench.stop();
  }
}

if (isMain(import.meta.url)) {
  console.log(formatMachine(describeMachine(root)));
  const rate = Number(process.argv[2] ?? LATENCY_DEFAULTS.ratePerSecond);
  const r = await measureLatency({ ...LATENCY_DEFAULTS, ratePerSecond: rate });
  console.log(
    `POST /api/messages, 1 recipient, ${r.ratePerSecond}/s for ${r.seconds} s (${r.requests} requests): ` +
      `p50 ${r.p50Ms.toFixed(1)} ms, p90 ${r.p90Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms, failed ${r.failed}`,
  );
}
