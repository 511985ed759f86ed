// Round-trips per delivered message, counted: storage requests through a counting proxy in front
// of Azurite, ACS requests and Event Grid deliveries at the emulator, function executions from
// the host's log. Requests go one at a time and delivery reports come a second after the send,
// so every request does the same work and the figures do not depend on the machine. The
// reconciler's share (it reads and untracks every handed-over message half an hour later) is
// measured by running it with its clock moved past that delay.
// `node dist/bench/roundTrips.js` runs it alone; with `--webhook`, an app's webhook (a local
// receiver answering 204) is configured too, so the event outbox's share is counted.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../shared/config.js';
import { buildServices, depsOf } from '../shared/composition.js';
import { reconcileDeliveries } from '../shared/pipeline/reconcileDeliveries.js';
import type { StorageOp } from './countingProxy.js';
import { describeMachine, formatMachine } from './machine.js';
import { isMain, personalisedTexts, recipients, root, startBenchStack, type BenchStack } from './benchStack.js';

export interface OpCount {
  /** e.g. "table.batch messages ×100 (replace)", "queue.put sms-outbound". */
  op: string;
  count: number;
}

/** uniform: one text to every recipient of a request; personalised: a text of its own per recipient. */
export type RequestShape = 'uniform' | 'personalised';

export interface RoundTripScenario {
  recipientsPerRequest: number;
  requests: number;
  shape?: RequestShape;
}

export interface RoundTripFigures {
  recipientsPerRequest: number;
  shape: RequestShape;
  /** Distinct texts over the scenario: what ACS requests are counted against for personalised requests. */
  distinctTexts: number;
  requests: number;
  recipients: number;
  /** Storage requests per recipient from POST to delivered (empty queue polls excluded). */
  storagePerRecipient: number;
  /** Storage requests, by operation, for the whole scenario. */
  storageOps: OpCount[];
  /** Requests answered 409/412 (lost races): 0 in a clean count. */
  conflicts: number;
  /** Queue receives that found nothing: idle polling, a cost of time rather than of messages. */
  emptyPolls: number;
  /** The reconciler's later share, per recipient. */
  reconcilePerRecipient: number;
  /** What the reconciler's run over these messages did, the fixed per-run queries included. */
  reconcileOps: OpCount[];
  /** Storage requests of a reconciler run with nothing to do (it runs every 5 minutes). */
  reconcilePerRun: number;
  /** Entity operations inside table transactions, per recipient (what per-entity limits see). */
  entityOpsPerRecipient: number;
  acsRequests: number;
  acsRequestsPerRecipient: number;
  eventDeliveriesPerRecipient: number;
  executions: Record<string, number>;
  /** One request's storage operations in the order they happened (the ceiling replays them). */
  sequence: StorageOp[];
  /** True when every request did the same operations. */
  uniform: boolean;
}

export const ROUND_TRIP_SCENARIOS: RoundTripScenario[] = [
  { recipientsPerRequest: 1, requests: 10 },
  { recipientsPerRequest: 100, requests: 4 },
  // 1,000 personal reminders in one request (issue 19); two requests, so the ceiling knows which
  // partitions are the request's own.
  { recipientsPerRequest: 1000, requests: 2, shape: 'personalised' },
];

/** Where each scenario's recipients start: apart from the others'. */
const PERSONALISED_OFFSET = 1_000_000;

/** A delivery report comes this long after the send, so the sender has always finished first. */
const REPORT_DELAY_MS = 1000;

export async function countRoundTrips(
  scenarios = ROUND_TRIP_SCENARIOS,
  log: (line: string) => void = () => undefined,
  options: { webhook?: boolean } = {},
): Promise<RoundTripFigures[]> {
  const receiver = options.webhook ? await startWebhookReceiver() : undefined;
  const bench = await startBenchStack({
    deliveryReportDelayMs: REPORT_DELAY_MS,
    countStorage: true,
    ...(receiver
      ? {
          settings: {
            STATUS_WEBHOOK_URLS: receiver.url,
            STATUS_WEBHOOK_SECRET: `whsec_${Buffer.from('bench webhook secret, 32 bytes..').toString('base64')}`,
          },
        }
      : {}),
  });
  try {
    // Warm up: SDKs loaded, connections open, the pacing entity created.
    await bench.post(recipients(1, 7_000_000), 'warm-up');
    await bench.waitForApplied(1, 60_000);
    await settle(bench);
    await reconcileNow(bench);
    const out: RoundTripFigures[] = [];
    for (const scenario of scenarios) {
      out.push(await countScenario(bench, scenario.recipientsPerRequest, scenario.requests, scenario.shape ?? 'uniform'));
      log(`  counted ${scenario.requests} ${scenario.shape ?? 'uniform'} requests of ${scenario.recipientsPerRequest}`);
    }
    return out;
  } finally {
    await bench.stop();
    await receiver?.stop();
  }
}

/** An app's webhook that takes every delivery (204), so retries never add to the count. */
async function startWebhookReceiver(): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/events`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Waits until the host has made no storage request (other than idle polls) for a while. */
async function settle(bench: BenchStack, quietMs = 400): Promise<void> {
  const busy = () => bench.proxy!.ops.filter((o) => !o.empty).length;
  let last = busy();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 50));
    const now = busy();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

function describe(op: StorageOp): string {
  if (op.kind === 'table.batch') {
    const kinds = [...new Set(op.entityOps)].join('/');
    return `${op.kind} ${op.target} ×${op.entities} (${kinds})`;
  }
  return `${op.kind} ${op.target}`.trim();
}

function tally(ops: readonly StorageOp[]): OpCount[] {
  const counts = new Map<string, number>();
  for (const op of ops) counts.set(describe(op), (counts.get(describe(op)) ?? 0) + 1);
  return [...counts].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

/** Runs the reconciler once with its clock past the reconcile delay; returns its storage requests. */
async function reconcileNow(bench: BenchStack): Promise<StorageOp[]> {
  const proxy = bench.proxy!;
  const mark = proxy.ops.length;
  const services = buildServices(loadConfig({ ...bench.stack.settings }));
  const ahead = services.config.reconcile.afterMs + 60_000;
  const clock = { now: () => new Date(Date.now() + ahead), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
  await reconcileDeliveries({ ...depsOf({ ...services, clock }).reconcile({ info() {}, warn() {}, error() {} }) });
  return proxy.ops.slice(mark).filter((o) => !o.empty);
}

async function countScenario(bench: BenchStack, size: number, requests: number, shape: RequestShape): Promise<RoundTripFigures> {
  const proxy = bench.proxy!;
  bench.resetCounters();
  // Counted from the sends (one per recipient, with its request's id): the emulator's request log
  // keeps only the last 2,000 requests, fewer than a personalised scenario makes.
  const sendsBefore = bench.stack.emulator.sends().length;
  const eventsBefore = bench.stack.emulator.eventDeliveries().length;
  const perRequest: StorageOp[][] = [];
  const texts = new Set<string>();
  for (let i = 0; i < requests; i++) {
    const mark = proxy.ops.length;
    let result: { status: number };
    if (shape === 'personalised') {
      const personal = personalisedTexts(size, i * size);
      personal.forEach((t) => texts.add(t));
      result = await bench.postPersonalised(recipients(size, PERSONALISED_OFFSET + i * size), personal);
    } else {
      texts.add(`Counted message ${i}`);
      result = await bench.post(recipients(size, i * size), `Counted message ${i}`);
    }
    if (result.status !== 202) throw new Error(`request answered ${result.status}`);
    // A thousand reports take a while on a busy 2-core machine; the count does not depend on the wait.
    await bench.waitForApplied((i + 1) * size, Math.max(60_000, size * 300));
    await settle(bench);
    perRequest.push(proxy.ops.slice(mark).filter((o) => !o.empty));
  }
  const ops = [...proxy.ops];
  const acs = [
    ...new Set(
      bench.stack.emulator
        .sends()
        .slice(sendsBefore)
        .map((s) => s.requestId),
    ),
  ];
  const events = bench.stack.emulator
    .eventDeliveries()
    .slice(eventsBefore)
    .filter((e) => e.eventType === 'Microsoft.Communication.SMSDeliveryReportReceived');
  const executions = Object.fromEntries(bench.executions);

  // The reconciler, half an hour later: reads the tracked messages' records and untracks them.
  // A second run with nothing to do gives what every run costs whatever the traffic.
  const reconcileOps = await reconcileNow(bench);
  const idleRun = await reconcileNow(bench);

  const total = size * requests;
  const work = ops.filter((o) => !o.empty);
  const signature = (list: StorageOp[]) =>
    tally(list)
      .map((c) => `${c.op}:${c.count}`)
      .join('|');
  const uniform = perRequest.every((list) => signature(list) === signature(perRequest[0]!));
  // Which steps address a partition of their own per request (a batch) and which a shared one (a sender, a minute).
  const sequence = perRequest.at(-1) ?? [];
  if (uniform && perRequest.length > 1) {
    sequence.forEach((op, i) => (op.partitionVaries = perRequest.some((list) => list[i]?.partitionKey !== op.partitionKey)));
  }
  return {
    recipientsPerRequest: size,
    shape,
    distinctTexts: texts.size,
    requests,
    recipients: total,
    storagePerRecipient: work.length / total,
    storageOps: tally(work),
    conflicts: work.filter((o) => o.status === 409 || o.status === 412).length,
    emptyPolls: ops.length - work.length,
    reconcilePerRecipient: (reconcileOps.length - idleRun.length) / total,
    reconcileOps: tally(reconcileOps),
    reconcilePerRun: idleRun.length,
    entityOpsPerRecipient: work.reduce((n, o) => n + o.entities, 0) / total,
    acsRequests: acs.length,
    acsRequestsPerRecipient: acs.length / total,
    eventDeliveriesPerRecipient: events.length / total,
    executions,
    sequence,
    uniform,
  };
}

export function formatRoundTrips(figures: readonly RoundTripFigures[]): string {
  const lines: string[] = [];
  for (const f of figures) {
    lines.push(
      `${f.recipientsPerRequest}-recipient ${f.shape === 'personalised' ? 'personalised ' : ''}requests (${f.requests} requests, ${f.recipients} recipients, ${f.distinctTexts} distinct texts): ` +
        `${f.storagePerRecipient.toFixed(2)} storage round-trips per recipient POST→delivered, ` +
        `+${f.reconcilePerRecipient.toFixed(2)} by the reconciler later (+${f.reconcilePerRun} per reconciler run); ` +
        `${f.acsRequestsPerRecipient.toFixed(2)} ACS requests per recipient (${f.acsRequests} for ${f.distinctTexts} distinct texts) and ${f.eventDeliveriesPerRecipient.toFixed(2)} Event Grid deliveries per recipient; ` +
        `conflicts ${f.conflicts}, idle polls ${f.emptyPolls}${f.uniform ? '' : ' (requests did not all do the same work)'}`,
    );
    lines.push(
      `  executions: ${Object.entries(f.executions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    for (const c of f.storageOps) lines.push(`  ${String(c.count).padStart(5)}  ${c.op}`);
    for (const c of f.reconcileOps) lines.push(`  ${String(c.count).padStart(5)}  ${c.op}  (reconciler)`);
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  console.log(formatMachine(describeMachine(root)));
  const webhook = process.argv.includes('--webhook');
  if (webhook) console.log('with a webhook configured: status events also go through the event outbox');
  console.log(formatRoundTrips(await countRoundTrips(ROUND_TRIP_SCENARIOS, console.log, { webhook })));
}
