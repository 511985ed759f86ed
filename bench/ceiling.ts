// The ceiling: how many recipients per second Azurite itself sustains for the storage work the
// pipeline does per request, replayed with the Tables and Queues SDKs directly — the same kinds
// of operation, on the same tables, with transactions of the same size, the entities the pipeline
// wrote (as the counting proxy recorded them), queries returning as many entities as the
// pipeline's did, and as many requests as the end-to-end run sends (Azurite scans a whole table
// for every query, so its speed depends on how full the tables are); 32 operations in flight. Whatever the
// pipeline adds on top (HTTP, the host, the ACS emulator, JSON, its own logic) shows as the gap
// between this figure and the end-to-end one.
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite } from '../local/azurite.js';
import type { StorageOp } from './countingProxy.js';
import { childPids, cpuMeter } from './processCpu.js';
import { isMain, root } from './benchStack.js';
import { describeMachine, formatMachine } from './machine.js';

/**
 * byStep: each step of the request for every request before the next step — as in the end-to-end
 * run, whose submissions run ahead of the sending, the sender and the delivery reports then work
 * against tables that hold every record (Azurite's queries scan whole tables, so this is what they
 * cost there). byRequest: each request's operations in turn, tables growing as they go — the
 * kindest case for Azurite.
 */
export type ReplayOrder = 'byStep' | 'byRequest';

export interface CeilingResult {
  order: ReplayOrder;
  recipientsPerRequest: number;
  requests: number;
  operations: number;
  seconds: number;
  recipientsPerSecond: number;
  operationsPerSecond: number;
  /** CPU milliseconds per recipient spent by Azurite and by the replaying client. */
  cpuMsPerRecipient: Record<string, number | undefined>;
}

/** Operations in flight at once. */
const IN_FLIGHT = 32;
/** Request bytes that are not entity data: multipart framing and headers of a transaction's part, or a request's JSON envelope. */
const PART_OVERHEAD = 400;
const ENVELOPE = 100;

type Step = (unit: number) => Promise<void>;

export async function measureCeiling(
  sequence: readonly StorageOp[],
  recipientsPerRequest: number,
  requests: number,
  order: ReplayOrder = 'byStep',
): Promise<CeilingResult> {
  const azurite = await startAzurite({ silent: true });
  try {
    const tables = new Map<string, TableClient>();
    const queues = new Map<string, QueueClient>();
    for (const op of sequence) {
      if (op.service === 'table' && op.target && !tables.has(op.target)) {
        const client = TableClient.fromConnectionString(azurite.connectionString, op.target, { allowInsecureConnection: true });
        await client.createTable();
        tables.set(op.target, client);
      } else if (op.service === 'queue' && op.target && !queues.has(op.target)) {
        const client = new QueueClient(azurite.connectionString, op.target);
        await client.createIfNotExists();
        queues.set(op.target, client);
      }
    }
    const received: Array<{ messageId: string; popReceipt: string; queue: QueueClient }> = [];
    const steps = sequence.map((op) => stepFor(op, tables, queues, received)).filter((s): s is Step => s !== undefined);

    const work: Array<() => Promise<void>> = [];
    if (order === 'byStep') for (const step of steps) for (let unit = 0; unit < requests; unit++) work.push(() => step(unit));
    else for (let unit = 0; unit < requests; unit++) for (const step of steps) work.push(() => step(unit));
    const cpu = cpuMeter({ azurite: childPids('azurite')[0], client: process.pid });
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < work.length) await work[next++]!();
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = cpu();
    const recipients = requests * recipientsPerRequest;
    return {
      order,
      recipientsPerRequest,
      requests,
      operations: work.length,
      seconds,
      recipientsPerSecond: recipients / seconds,
      operationsPerSecond: work.length / seconds,
      cpuMsPerRecipient: Object.fromEntries(
        Object.entries(cpuSeconds).map(([k, v]) => [k, v === undefined ? undefined : (v * 1000) / recipients]),
      ),
    };
  } finally {
    await azurite.stop();
  }
}

function padding(bytes: number): string {
  return 'x'.repeat(Math.max(0, Math.round(bytes)));
}

/** Row keys sort in index order, so a range of them is a prefix of the partition. */
function rowKey(i: number): string {
  return `r${String(i).padStart(4, '0')}`;
}

/** The entity the pipeline wrote (its properties as recorded), else padding of the same size. */
function entityOf(op: StorageOp, bytes: number): Record<string, unknown> {
  return op.entity ? { ...op.entity } : { data: padding(bytes) };
}

/**
 * Where request `unit` puts this step's entities. A step whose partition differed between the
 * counted requests (a batch) gets a partition per request, shaped like the pipeline's — same
 * length, the first characters shared, as time-ordered batch ids share them (Azurite compares keys
 * while it scans a table, so their shape costs time); a step that addressed one partition for all
 * (a sender, a minute) shares one, with row keys per request.
 */
function placement(op: StorageOp): { partitionKey: (unit: number) => string; rowKey: (unit: number, i: number) => string } {
  const recorded = op.partitionKey;
  if (recorded && op.partitionVaries === false) {
    return { partitionKey: () => recorded, rowKey: (unit, i) => `u${unit}-${rowKey(i)}` };
  }
  if (recorded && recorded.length >= 8) {
    const shared = recorded.slice(0, Math.min(8, Math.floor(recorded.length / 2)));
    return {
      partitionKey: (unit) => `${shared}${unit.toString(36)}`.padEnd(recorded.length, 'x'),
      rowKey: (_unit, i) => rowKey(i),
    };
  }
  return { partitionKey: (unit) => `u${unit}`, rowKey: (_unit, i) => rowKey(i) };
}

function stepFor(
  op: StorageOp,
  tables: Map<string, TableClient>,
  queues: Map<string, QueueClient>,
  received: Array<{ messageId: string; popReceipt: string; queue: QueueClient }>,
): Step | undefined {
  const table = tables.get(op.target);
  const queue = queues.get(op.target);
  const { partitionKey, rowKey: rowKeyOf } = placement(op);
  if (table && op.kind === 'table.batch') {
    const properties = entityOf(op, op.requestBytes / Math.max(1, op.entities) - PART_OVERHEAD);
    return async (unit) => {
      const actions: TransactionAction[] = Array.from({ length: op.entities }, (_, i) =>
        op.entityOps?.[i] === 'delete'
          ? ['delete', { partitionKey: partitionKey(unit), rowKey: rowKeyOf(unit, i) }]
          : ['upsert', { ...properties, partitionKey: partitionKey(unit), rowKey: rowKeyOf(unit, i) }, 'Replace'],
      );
      await table.submitTransaction(actions).catch(ignoreStatus(404));
    };
  }
  if (table && op.kind === 'table.query') {
    // As many entities back as the pipeline's query got (a job's records, one report's record, no opt-outs).
    const results = op.results ?? 1;
    return async (unit) => {
      const filter = `PartitionKey eq '${partitionKey(unit)}' and RowKey ge '${rowKeyOf(unit, 0)}' and RowKey lt '${rowKeyOf(unit, results)}'`;
      for await (const entity of table.listEntities({ queryOptions: { filter } })) void entity;
    };
  }
  if (table && op.kind === 'table.get') {
    return async (unit) => {
      await table.getEntity(partitionKey(unit), rowKeyOf(unit, 0)).catch(ignoreStatus(404));
    };
  }
  if (table && op.kind === 'table.delete') {
    return async (unit) => {
      await table.deleteEntity(partitionKey(unit), rowKeyOf(unit, 0)).catch(ignoreStatus(404));
    };
  }
  if (table && /^table\.(insert|replace|upsert|merge|upsertMerge)$/.test(op.kind)) {
    const properties = entityOf(op, op.requestBytes - ENVELOPE);
    return async (unit) => {
      await table.upsertEntity({ ...properties, partitionKey: partitionKey(unit), rowKey: rowKeyOf(unit, 0) }, 'Replace');
    };
  }
  if (queue && op.kind === 'queue.put') {
    const text = Buffer.from(padding((op.requestBytes - ENVELOPE) * 0.75)).toString('base64');
    return async () => {
      await queue.sendMessage(text);
    };
  }
  if (queue && op.kind === 'queue.get') {
    return async () => {
      const response = await queue.receiveMessages({ numberOfMessages: 1 });
      for (const m of response.receivedMessageItems) received.push({ messageId: m.messageId, popReceipt: m.popReceipt, queue });
    };
  }
  if (queue && op.kind === 'queue.delete') {
    return async () => {
      const m = received.shift();
      // 400: a concurrent update (below) changed the pop receipt first; the work is done either way.
      if (m) await m.queue.deleteMessage(m.messageId, m.popReceipt).catch(ignoreStatus(404, 400));
      else await queue.getProperties();
    };
  }
  if (queue && op.kind === 'queue.update') {
    return async () => {
      const m = received[0];
      if (!m) return;
      const updated = await m.queue.updateMessage(m.messageId, m.popReceipt, undefined, 0).catch(ignoreStatus(404, 400));
      // The next operation on the message needs the receipt this one returned.
      if (updated?.popReceipt) m.popReceipt = updated.popReceipt;
    };
  }
  return undefined;
}

function ignoreStatus(...statuses: number[]) {
  return (error: unknown): undefined => {
    if (!statuses.includes((error as { statusCode?: number }).statusCode ?? 0)) throw error;
    return undefined;
  };
}

if (isMain(import.meta.url)) {
  // The storage work per request comes from a count, so the ceiling follows the pipeline as it changes.
  const { countRoundTrips } = await import('./roundTrips.js');
  const { END_TO_END_DEFAULTS } = await import('./endToEnd.js');
  console.log(formatMachine(describeMachine(root)));
  // `node dist/bench/ceiling.js personalised` (or one, hundred) measures that shape alone.
  const only = process.argv[2] as keyof typeof END_TO_END_DEFAULTS | undefined;
  const shapes = only ? [END_TO_END_DEFAULTS[only]] : Object.values(END_TO_END_DEFAULTS);
  const counted = await countRoundTrips();
  for (const s of shapes) {
    const sequence = counted.find((c) => c.recipientsPerRequest === s.recipientsPerRequest)!.sequence;
    for (const order of ['byStep', 'byRequest'] as const) {
      const r = await measureCeiling(sequence, s.recipientsPerRequest, s.requests, order);
      console.log(
        `ceiling (${order}), ${r.requests} requests of ${r.recipientsPerRequest}: ${r.operations} storage operations in ${r.seconds.toFixed(1)} s = ` +
          `${r.operationsPerSecond.toFixed(0)} operations/s, ${r.recipientsPerSecond.toFixed(1)} recipients/s`,
      );
    }
  }
}
