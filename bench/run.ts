// `npm run bench`: every benchmark on the local stack, one after the other, then one table and the
// machine it ran on. `--json FILE` also writes every figure as JSON. docs/benchmarks.md explains
// the method and shows the figures of one run.
import { writeFileSync } from 'node:fs';
import { measureCeiling, type CeilingResult } from './ceiling.js';
import { measureColdStart } from './coldStart.js';
import { END_TO_END_DEFAULTS, measureEndToEnd, type EndToEndResult } from './endToEnd.js';
import { measureLatency } from './latency.js';
import { formatSendLatency, measureSendLatency, SEND_LATENCY_DEFAULTS } from './sendLatency.js';
import { describeMachine, formatMachine } from './machine.js';
import { countRoundTrips, formatRoundTrips, type RoundTripFigures } from './roundTrips.js';
import { measureSubmit } from './submit.js';
import { formatLinks, measureLinks } from './links.js';
import { root } from './benchStack.js';

const LATENCY_SECONDS = 20;
/** The latency load, as a share of the measured 1-recipient end-to-end throughput: steady, not saturating. */
const LATENCY_LOAD_SHARE = 0.5;

const jsonArg = process.argv.indexOf('--json');
const jsonFile = jsonArg >= 0 ? process.argv[jsonArg + 1] : undefined;

const began = Date.now();
const machine = describeMachine(root);
const step = (what: string) => console.log(`[${((Date.now() - began) / 1000).toFixed(0).padStart(3)} s] ${what}`);
console.log(formatMachine(machine));
console.log('');

step('cold start');
const coldStart = await measureColdStart();

step('round-trips, counted');
const roundTrips = await countRoundTrips(undefined, console.log);
const counted = (n: number) => roundTrips.find((r) => r.recipientsPerRequest === n)!;

step('submit throughput');
const submit = await measureSubmit();

// Each ceiling right before its end-to-end run, so that both see the same machine.
const scenarios = [END_TO_END_DEFAULTS.one, END_TO_END_DEFAULTS.hundred, END_TO_END_DEFAULTS.personalised];
const ceilings: CeilingResult[] = [];
const kindCeilings: CeilingResult[] = [];
const endToEnd: EndToEndResult[] = [];
for (const s of scenarios) {
  const sequence = counted(s.recipientsPerRequest).sequence;
  step(`ceiling: Azurite replaying the storage work of ${s.requests} requests of ${s.recipientsPerRequest}, step by step`);
  ceilings.push(await measureCeiling(sequence, s.recipientsPerRequest, s.requests, 'byStep'));
  step(`ceiling: the same, request by request`);
  kindCeilings.push(await measureCeiling(sequence, s.recipientsPerRequest, s.requests, 'byRequest'));
  step(`end to end: ${s.requests} ${s.shape ?? 'uniform'} requests of ${s.recipientsPerRequest}, ${s.concurrency} in flight`);
  endToEnd.push(await measureEndToEnd(s, console.log));
}

const latencyRate = Math.max(1, Math.round(endToEnd[0]!.recipientsPerSecond * LATENCY_LOAD_SHARE));
step(`latency: ${latencyRate} requests/s for ${LATENCY_SECONDS} s`);
const latency = await measureLatency({ ratePerSecond: latencyRate, seconds: LATENCY_SECONDS });
step('one-time codes: POST → ACS request, steady');
const codesSteady = await measureSendLatency(SEND_LATENCY_DEFAULTS.steady);
step('one-time codes: POST → ACS request, sparse');
const codesSparse = await measureSendLatency(SEND_LATENCY_DEFAULTS.sparse);
step('short links: 10,000 unknown codes, then sent ones');
const links = await measureLinks();
step('done');

// ---------- the table ----------

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits));
const byN = <T extends { recipientsPerRequest: number }>(list: readonly T[], n: number) =>
  list.find((x) => x.recipientsPerRequest === n);
const naive = counted(1).storagePerRecipient;
const executionsPer = (r: RoundTripFigures) => Object.values(r.executions).reduce((a, b) => a + b, 0) / r.recipients;
const ratioTo = (list: readonly CeilingResult[], n: number) =>
  (byN(endToEnd, n)?.recipientsPerSecond ?? NaN) / (byN(list, n)?.recipientsPerSecond ?? NaN);
const ratio = (n: number) => ratioTo(ceilings, n);
const lazy = coldStart.find((c) => c.mode === 'lazy')!;
const eager = coldStart.find((c) => c.mode === 'eager')!;
const bundled = coldStart.find((c) => c.mode === 'bundled')!;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
const cpuOf = (cpu: Record<string, number | undefined> | undefined, parts: string[]) =>
  parts.map((p) => fmt(cpu?.[p], cpu?.[p] !== undefined && cpu[p]! < 1 ? 2 : 1)).join(' / ');

type Row = [string, string, string, string, string];
const rows: Row[] = [
  [
    'submit: accepted recipients/s (16 in flight, sender off)',
    fmt(byN(submit, 1)?.recipientsPerSecond),
    fmt(byN(submit, 100)?.recipientsPerSecond),
    '—',
    '',
  ],
  [
    'end to end: recipients/s, POST → delivered recorded',
    fmt(byN(endToEnd, 1)?.recipientsPerSecond, 1),
    fmt(byN(endToEnd, 100)?.recipientsPerSecond, 1),
    fmt(byN(endToEnd, 1000)?.recipientsPerSecond, 1),
    '',
  ],
  [
    'ceiling: Azurite alone, same storage work, full tables, recipients/s',
    fmt(byN(ceilings, 1)?.recipientsPerSecond, 1),
    fmt(byN(ceilings, 100)?.recipientsPerSecond, 1),
    fmt(byN(ceilings, 1000)?.recipientsPerSecond, 1),
    '',
  ],
  [
    'end to end / ceiling',
    fmt(ratio(1), 2),
    fmt(ratio(100), 2),
    fmt(ratio(1000), 2),
    `≥ 0.5: ${verdict(ratio(1) >= 0.5)} / ${verdict(ratio(100) >= 0.5)} / ${verdict(ratio(1000) >= 0.5)}`,
  ],
  [
    '  ceiling with tables growing request by request',
    fmt(byN(kindCeilings, 1)?.recipientsPerSecond, 1),
    fmt(byN(kindCeilings, 100)?.recipientsPerSecond, 1),
    fmt(byN(kindCeilings, 1000)?.recipientsPerSecond, 1),
    '',
  ],
  [
    '  end to end / that ceiling',
    fmt(ratioTo(kindCeilings, 1), 2),
    fmt(ratioTo(kindCeilings, 100), 2),
    fmt(ratioTo(kindCeilings, 1000), 2),
    '',
  ],
  [
    '  CPU ms per recipient: host / Azurite / load + ACS emulator',
    cpuOf(byN(endToEnd, 1)?.cpuMsPerRecipient, ['host', 'azurite', 'bench']),
    cpuOf(byN(endToEnd, 100)?.cpuMsPerRecipient, ['host', 'azurite', 'bench']),
    cpuOf(byN(endToEnd, 1000)?.cpuMsPerRecipient, ['host', 'azurite', 'bench']),
    '',
  ],
  [
    '  ceiling CPU ms per recipient: Azurite / client',
    cpuOf(byN(ceilings, 1)?.cpuMsPerRecipient, ['azurite', 'client']),
    cpuOf(byN(ceilings, 100)?.cpuMsPerRecipient, ['azurite', 'client']),
    cpuOf(byN(ceilings, 1000)?.cpuMsPerRecipient, ['azurite', 'client']),
    '',
  ],
  [
    'storage round-trips per recipient, POST → delivered',
    fmt(counted(1).storagePerRecipient, 2),
    fmt(counted(100).storagePerRecipient, 2),
    fmt(counted(1000).storagePerRecipient, 2),
    `≤ 4 at 100: ${verdict(counted(100).storagePerRecipient <= 4)}; ≤ 5 personalised: ${verdict(counted(1000).storagePerRecipient <= 5)}`,
  ],
  ['  naive (every recipient on its own, as a 1-recipient request)', fmt(naive, 2), fmt(naive, 2), fmt(naive, 2), ''],
  [
    '  + the reconciler, 30 min later',
    fmt(counted(1).reconcilePerRecipient, 2),
    fmt(counted(100).reconcilePerRecipient, 2),
    fmt(counted(1000).reconcilePerRecipient, 2),
    '',
  ],
  [
    'ACS requests per recipient',
    fmt(counted(1).acsRequestsPerRecipient, 2),
    fmt(counted(100).acsRequestsPerRecipient, 2),
    fmt(counted(1000).acsRequestsPerRecipient, 2),
    `1 per ≤ 100: ${verdict(counted(100).acsRequestsPerRecipient <= 0.01 + 1e-9)}; 1 per distinct text: ` +
      verdict(counted(1000).acsRequests === counted(1000).distinctTexts),
  ],
  ['  naive', '1.00', '1.00', '1.00', ''],
  [
    'Event Grid deliveries per recipient',
    fmt(counted(1).eventDeliveriesPerRecipient, 2),
    fmt(counted(100).eventDeliveriesPerRecipient, 2),
    fmt(counted(1000).eventDeliveriesPerRecipient, 2),
    '',
  ],
  [
    'function executions per recipient',
    fmt(executionsPer(counted(1)), 2),
    fmt(executionsPer(counted(100)), 2),
    fmt(executionsPer(counted(1000)), 2),
    '',
  ],
  [
    'host peak RSS during the end-to-end run, MiB',
    fmt(byN(endToEnd, 1)?.hostPeakRssMiB),
    fmt(byN(endToEnd, 100)?.hostPeakRssMiB),
    fmt(byN(endToEnd, 1000)?.hostPeakRssMiB),
    '',
  ],
];
const head: Row = ['figure', '1 recipient / request', '100 recipients / request', '1,000 personalised / request', 'target'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: readonly string[]) =>
  `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;

console.log('');
console.log(formatRoundTrips(roundTrips));
console.log('');
console.log(line(head));
console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log('');
console.log(
  `latency, POST /api/messages (1 recipient) at ${latency.ratePerSecond}/s for ${latency.seconds} s while the pipeline runs: ` +
    `p50 ${fmt(latency.p50Ms, 1)} ms, p99 ${fmt(latency.p99Ms, 1)} ms (p90 ${fmt(latency.p90Ms, 1)}, max ${fmt(latency.maxMs, 1)}, ${latency.requests} requests, ${latency.failed} failed)`,
);
console.log(formatSendLatency(codesSteady));
console.log(`${formatSendLatency(codesSparse)} (target p99 < 500 ms: ${verdict(codesSparse.p99Ms < 500)})`);
console.log(formatLinks(links));
console.log(
  `cold start, import of ${lazy.functions} functions in a fresh process (median of ${lazy.runs}): lazy ${fmt(lazy.importMs)} ms ` +
    `(${verdict(lazy.importMs < 300)}: < 300 ms), eager ${fmt(eager.importMs)} ms, bundled ${fmt(bundled.importMs)} ms; ` +
    `process start to registered: ${fmt(lazy.processMs)} / ${fmt(eager.processMs)} / ${fmt(bundled.processMs)} ms; ` +
    `RSS ${fmt(lazy.rssMiB)} / ${fmt(eager.rssMiB)} / ${fmt(bundled.rssMiB)} MiB`,
);
console.log('');
console.log(formatMachine(machine));
console.log(`total: ${((Date.now() - began) / 1000).toFixed(0)} s`);

if (jsonFile) {
  writeFileSync(
    jsonFile,
    JSON.stringify(
      {
        machine,
        at: new Date(began).toISOString(),
        coldStart,
        roundTrips,
        ceilings,
        kindCeilings,
        submit,
        endToEnd,
        latency,
        codesSteady,
        codesSparse,
        links,
      },
      null,
      2,
    ),
  );
  console.log(`figures written to ${jsonFile}`);
}
