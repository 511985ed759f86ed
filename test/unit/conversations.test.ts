// Conversations on the send path (what it costs, and that a redelivery writes the same entry),
// reading a thread, and erasure.
import { beforeEach, describe, expect, it } from 'vitest';
import { messageIdOf, newBatchId } from '../../shared/domain/ids.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJobV1 } from '../../shared/domain/sendJob.js';
import { conversationView } from '../../shared/http/conversations.js';
import { getConversation as readConversation } from '../../shared/pipeline/conversations.js';

/** A conversation as the API shows it. */
async function getConversation(...args: Parameters<typeof readConversation>) {
  const result = await readConversation(...args);
  return result.kind === 'found' ? { kind: 'found' as const, conversation: conversationView(result.conversation) } : result;
}
import { eraseSubject, type EraseDeps } from '../../shared/pipeline/eraseSubject.js';
import { FakeLinkStore } from '../support/linkFakes.js';
import { processSendJob, type SendDeps } from '../../shared/pipeline/send/processSendJob.js';
import {
  FakeClock,
  FakeConsentLog,
  FakeConversations,
  FakeDeadLetters,
  FakeGateway,
  FakeMessageStore,
  FakeOptOuts,
  FakeQueue,
  FakeRateLimiter,
  shortCode,
  RecordingSink,
  FakeTracker,
  silentLogger,
  tollFree,
  FakeSendingControls,
} from '../support/fakes.js';

const PERSON = '+14255550123';
let clock: FakeClock;
let messages: FakeMessageStore;
let conversations: FakeConversations;
let deps: SendDeps;

beforeEach(() => {
  clock = new FakeClock();
  messages = new FakeMessageStore();
  conversations = new FakeConversations();
  deps = {
    messages,
    queue: new FakeQueue(),
    gateway: new FakeGateway(),
    optOuts: new FakeOptOuts(),
    deadLetters: new FakeDeadLetters(),
    rateLimiter: new FakeRateLimiter(clock),
    clock,
    log: silentLogger,
    senders: [tollFree, shortCode],
    maxAttempts: 4,
    uncertainPolicy: 'atMostOnce',
    controls: new FakeSendingControls(), // no pause, no hold
    allowedCountries: 'any' as const,
    conversations,
    events: new RecordingSink(),
    tracker: new FakeTracker(),
  };
});

function job(recipients: string[], text = 'See you at 10:00'): SendJobV1 {
  const batchId = newBatchId(clock.now());
  return {
    schema: SEND_JOB_SCHEMA_VERSION,
    jobId: `${batchId}.0`,
    batchId,
    from: shortCode.number,
    message: text,
    recipients: recipients.map((to, i) => ({ messageId: messageIdOf(batchId, i), to })),
    deliveryReport: true,
    attempt: 1,
    kind: 'message',
  };
}

describe('outbound entries on the send path', () => {
  it('a job of 100 recipients writes its thread entries in one request', async () => {
    const recipients = Array.from({ length: 100 }, (_, i) => `+1425555${String(1000 + i)}`);
    await processSendJob(deps, job(recipients));
    expect(conversations.outboundWrites).toEqual([100]);
    const thread = await conversations.thread(shortCode.number, recipients[7]!, { limit: 10 });
    expect(thread.items).toEqual([
      expect.objectContaining({ direction: 'outbound', body: 'See you at 10:00', messageId: expect.stringMatching(/-007$/) }),
    ]);
  });

  it('a redelivered job writes the same entry again (same key), nothing new', async () => {
    const j = job([PERSON]);
    await processSendJob(deps, j);
    clock.advance(60_000);
    await processSendJob(deps, j);
    expect(conversations.entries.size).toBe(1);
  });

  it('messages never handed over (suppressed) are not in the thread', async () => {
    await deps.optOuts.add({ sender: shortCode.number, recipient: PERSON, source: 'api', at: clock.now().toISOString() });
    await processSendJob(deps, job([PERSON]));
    expect(conversations.entries.size).toBe(0);
  });
});

describe('reading a thread', () => {
  it('needs `from` when the pool has several numbers', async () => {
    expect(await getConversation({ conversations, senders: [tollFree, shortCode] }, PERSON, { limit: 10 })).toMatchObject({
      kind: 'invalid',
      field: 'from',
    });
    expect(await getConversation({ conversations, senders: [shortCode] }, PERSON, { limit: 10 })).toMatchObject({
      kind: 'found',
      conversation: { phone: PERSON, from: shortCode.number, messages: [] },
    });
  });
});

describe('erasure', () => {
  it('erases texts and threads, cancels waiting messages, keeps the consent log and the opt-outs, and says so', async () => {
    await processSendJob(deps, job([PERSON, '+14255550124'], 'Your code is 1234'));
    const waiting = job([PERSON], 'Tomorrow at 9');
    await messages.insertBatch([
      {
        messageId: waiting.recipients[0]!.messageId,
        batchId: waiting.batchId,
        from: shortCode.number,
        to: PERSON,
        body: 'Tomorrow at 9',
        encoding: 'GSM-7',
        segments: 1,
        metadata: { patient: 'Jane Doe' },
        deliveryReport: true,
        status: 'scheduled',
        history: [{ status: 'scheduled', at: clock.now().toISOString() }],
        createdAt: clock.now().toISOString(),
        updatedAt: clock.now().toISOString(),
        attempts: 0,
      },
    ]);
    await conversations.saveInbound({
      ourNumber: shortCode.number,
      theirNumber: PERSON,
      direction: 'inbound',
      at: clock.now().toISOString(),
      body: 'My date of birth is …',
      inboundMessageId: 'in-1',
      keyword: null,
    });
    const consentLog = new FakeConsentLog();
    await consentLog.append({
      id: 'c1',
      action: 'optOut',
      sender: tollFree.number,
      recipient: PERSON,
      source: 'keyword',
      keyword: 'STOP',
      at: clock.now().toISOString(),
      applied: true,
    });
    await deps.optOuts.add({ sender: tollFree.number, recipient: PERSON, source: 'keyword', at: clock.now().toISOString() });

    const eraseDeps: EraseDeps = {
      events: new RecordingSink(),
      messages,
      conversations,
      consentLog,
      optOuts: deps.optOuts,
      senders: deps.senders,
      clock,
      log: silentLogger,
      links: new FakeLinkStore(),
    };
    const report = await eraseSubject(eraseDeps, PERSON);
    expect(report.erased).toEqual({ messageTexts: 2, conversationEntries: 2, canceledMessages: 1, trackedLinks: 0 });
    expect(report.kept.find((k) => k.data === 'consent log')).toMatchObject({ count: 1 });
    expect(report.kept.find((k) => k.data === 'opt-outs in force')).toMatchObject({ count: 1 });
    for (const k of report.kept) expect(k.why.length).toBeGreaterThan(20);

    const mine = await messages.listByRecipient(PERSON);
    expect(mine.map((r) => r.body)).toEqual(['', '']);
    expect(mine.every((r) => r.erasedAt && !r.metadata)).toBe(true);
    expect(mine.find((r) => r.batchId === waiting.batchId)!.status).toBe('canceled');
    expect((await messages.listByRecipient('+14255550124'))[0]!.body).toBe('Your code is 1234');
    expect((await conversations.thread(shortCode.number, PERSON, { limit: 10 })).items).toEqual([]);
    expect((await conversations.thread(shortCode.number, '+14255550124', { limit: 10 })).items).toHaveLength(1);
    expect(consentLog.entries).toHaveLength(1);

    const again = await eraseSubject(eraseDeps, PERSON);
    expect(again.erased).toEqual({ messageTexts: 0, conversationEntries: 0, canceledMessages: 0, trackedLinks: 0 });
  });

  it('a redelivered job of an erased message does not bring its text back to the thread', async () => {
    const j = job([PERSON]);
    await processSendJob(deps, j);
    await eraseSubject(
      {
        events: new RecordingSink(),
        messages,
        conversations,
        consentLog: new FakeConsentLog(),
        optOuts: deps.optOuts,
        senders: deps.senders,
        clock,
        log: silentLogger,
        links: new FakeLinkStore(),
      },
      PERSON,
    );
    await processSendJob(deps, j);
    expect(conversations.entries.size).toBe(0);
  });
});
