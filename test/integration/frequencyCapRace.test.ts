// Frequency caps shared by every instance, on a real Azurite: two instances (two sets of Table
// adapters, as two function app instances have) submit marketing messages to one number at once,
// under a cap of 3 a day. Exactly 3 are queued and the rest are recorded `suppressed` with the
// reason frequencyCap; the stored counts hold 3; the jobs carry only the 3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../local/azurite.js';
import { createTableAdapters, type TableAdapters } from '../../shared/adapters/tables/tableAdapters.js';
import { parseFrequencyCaps } from '../../shared/domain/frequencyCap.js';
import { submitMessagesBody } from '../../shared/http/messages.js';
import { submitMessages, type SubmitDeps } from '../../shared/pipeline/submitMessages.js';
import {
  FakeClock,
  FakeQueue,
  FakeTemplates,
  RecordingSink,
  defaultSendRules,
  openGuard,
  sendRuleDeps,
  silentLogger,
  tollFree,
  FakeOptOuts,
} from '../support/fakes.js';

let azurite: Azurite;
let a: TableAdapters;
let b: TableAdapters;

beforeAll(async () => {
  azurite = await startAzurite({ silent: true });
  const instance = () => createTableAdapters({ kind: 'connectionString', connectionString: azurite.connectionString });
  a = instance();
  b = instance();
  await a.ensureTables();
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
});

function capsOf(text: string) {
  const parsed = parseFrequencyCaps(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.caps;
}

/** An instance's submit deps: its own Table adapters for records, submissions and the caps' counts. */
function instance(tables: TableAdapters, queue: FakeQueue, clock: FakeClock): SubmitDeps {
  return {
    ...openGuard(),
    ...sendRuleDeps({ ...defaultSendRules(), caps: capsOf('marketing:3/day,10/week') }, tables.frequencyCaps),
    messages: tables.messages,
    submissions: tables.submissions,
    optOuts: new FakeOptOuts(),
    queue,
    clock,
    log: silentLogger,
    senders: [tollFree],
    maxSegments: 10,
    events: new RecordingSink(),
    templates: new FakeTemplates(),
  };
}

describe('two instances submitting to one number under a cap of 3 marketing messages a day', () => {
  it('queue exactly 3 of 8 submitted at once; the others are suppressed with reason frequencyCap', async () => {
    const clock = new FakeClock(Date.parse('2026-11-25T17:00:00Z')); // noon in New York
    const queue = new FakeQueue();
    const instances = [instance(a, queue, clock), instance(b, queue, clock)];
    const to = '+12125550188';
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        submitMessages(instances[i % 2]!, submitMessagesBody.parse({ to, message: `Sale ${i}`, category: 'marketing' })),
      ),
    );
    const records = results.flatMap((r) => (r.kind === 'accepted' ? r.records : []));
    expect(records).toHaveLength(8);
    // What is stored, read back by the other instance.
    const stored = await Promise.all(
      records.map(async (r) => (await b.messages.getMany(r.batchId, [r.messageId])).get(r.messageId)!),
    );
    expect(stored.filter((r) => r.status === 'queued')).toHaveLength(3);
    const suppressed = stored.filter((r) => r.status === 'suppressed');
    expect(suppressed).toHaveLength(5);
    for (const r of suppressed)
      expect(r.history[0]).toMatchObject({ code: 'frequencyCap', reason: expect.stringMatching(/^frequencyCap/) });
    // Only the 3 are on their way.
    expect(queue.jobs.flatMap((j) => j.recipients.map((x) => x.to))).toEqual([to, to, to]);
    // A 9th, later that day, from either instance: suppressed too.
    const ninth = await submitMessages(instances[1]!, submitMessagesBody.parse({ to, message: 'Sale 9', category: 'marketing' }));
    expect(ninth.kind === 'accepted' && ninth.records[0]!.status).toBe('suppressed');
  }, 60_000);
});
