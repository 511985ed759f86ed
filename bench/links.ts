// Short links (docs/links.md): GET /api/l/<code> for 10,000 random codes — every one must be a 404 —
// and for codes that were sent (302), 16 in flight, with the storage requests each makes counted
// through the proxy. `node dist/bench/links.js` runs it alone.
import { randomInt } from 'node:crypto';
import { describeMachine, formatMachine } from './machine.js';
import { isMain, percentile, recipients, root, runPool, SENDER, startBenchStack } from './benchStack.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const randomCode = () => Array.from({ length: 8 }, () => ALPHABET[randomInt(62)]).join('');
const PHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

export interface LinkFigures {
  kind: 'unknown codes (404)' | 'sent codes (302, click recorded)';
  requests: number;
  concurrency: number;
  /** Answers other than the expected status: must be 0. */
  unexpected: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Storage requests the host made per link request. */
  storagePerRequest: number;
}

export async function measureLinks(options = { unknown: 10_000, clicks: 1_000, concurrency: 16 }): Promise<LinkFigures[]> {
  const bench = await startBenchStack({
    deliveryReportDelayMs: 0,
    countStorage: true,
    settings: { LINK_DOMAIN: 'go.example.test' },
  });
  try {
    const base = `${bench.stack.hostUrl}/api/l`;
    const run = async (kind: LinkFigures['kind'], codes: readonly string[], expected: number): Promise<LinkFigures> => {
      bench.resetCounters();
      const times: number[] = [];
      let unexpected = 0;
      const started = performance.now();
      await runPool(codes.length, options.concurrency, async (i) => {
        const t = performance.now();
        const response = await fetch(`${base}/${codes[i]}`, { redirect: 'manual', headers: { 'user-agent': PHONE_UA } });
        await response.arrayBuffer();
        times.push(performance.now() - t);
        if (response.status !== expected) unexpected++;
      });
      const seconds = (performance.now() - started) / 1000;
      times.sort((a, b) => a - b);
      return {
        kind,
        requests: codes.length,
        concurrency: options.concurrency,
        unexpected,
        requestsPerSecond: codes.length / seconds,
        p50Ms: percentile(times, 50),
        p99Ms: percentile(times, 99),
        storagePerRequest: (bench.proxy?.ops.length ?? Number.NaN) / codes.length,
      };
    };
    // Warm the route (and the function) before measuring.
    await fetch(`${base}/${randomCode()}`);

    const unknown = await run('unknown codes (404)', Array.from({ length: options.unknown }, randomCode), 404);

    // 100 tracked messages with one link each, sent; their codes come from the handsets' inboxes.
    const to = recipients(100, 8_000_000);
    const response = await fetch(`${bench.stack.hostUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to, message: 'Sale: https://shop.example.com/spring?ref=sms', from: SENDER, trackLinks: true }),
    });
    if (response.status !== 202) throw new Error(`tracked submit answered ${response.status}: ${await response.text()}`);
    await bench.waitForApplied(100, 120_000);
    const sent = to.flatMap((t) =>
      bench.stack.emulator
        .inbox(t)
        .flatMap((m) => [...m.message.matchAll(/go\.example\.test\/([0-9A-Za-z]{8})/g)].map((x) => x[1]!)),
    );
    if (sent.length !== 100) throw new Error(`expected 100 short links in the inboxes, found ${sent.length}`);
    const clicks = await run(
      'sent codes (302, click recorded)',
      Array.from({ length: options.clicks }, (_, i) => sent[i % sent.length]!),
      302,
    );
    return [unknown, clicks];
  } finally {
    await bench.stop();
  }
}

export function formatLinks(figures: readonly LinkFigures[]): string {
  return figures
    .map(
      (f) =>
        `GET /api/l/<code>, ${f.kind}: ${f.requests} requests, ${f.concurrency} in flight: ${f.requestsPerSecond.toFixed(0)} requests/s, ` +
        `p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms, ${f.storagePerRequest.toFixed(2)} storage requests each, ${f.unexpected} unexpected answers`,
    )
    .join('\n');
}

if (isMain(import.meta.url)) {
  console.log(formatMachine(describeMachine(root)));
  console.log(formatLinks(await measureLinks()));
}
