import { beforeEach, describe, expect, it } from 'vitest';
import { messageIdOf, newBatchId } from '../../shared/domain/ids.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { SEND_JOB_SCHEMA_VERSION, type SendJobV1 } from '../../shared/domain/sendJob.js';
import { processSendJob, type SendDeps } from '../../shared/pipeline/send/processSendJob.js';
import { REPEATABILITY_WINDOW_MS } from '../../shared/pipeline/send/triage.js';
import {
  FakeClock,
  FakeConversations,
  FakeDeadLetters,
  FakeGateway,
  FakeMessageStore,
  FakeOptOuts,
  FakeQueue,
  FakeRateLimiter,
  FakeTracker,
  RecordingSink,
  shortCode,
  silentLogger,
  tollFree,
  FakeSendingControls,
} from '../support/fakes.js';

let clock: FakeClock;
let messages: FakeMessageStore;
let queue: FakeQueue;
let gateway: FakeGateway;
let optOuts: FakeOptOuts;
let deadLetters: FakeDeadLetters;
let rateLimiter: FakeRateLimiter;
let deps: SendDeps;

beforeEach(() => {
  clock = new FakeClock();
  messages = new FakeMessageStore();
  queue = new FakeQueue();
  gateway = new FakeGateway();
  optOuts = new FakeOptOuts();
  deadLetters = new FakeDeadLetters();
  rateLimiter = new FakeRateLimiter(clock);
  deps = {
    messages,
    queue,
    gateway,
    optOuts,
    deadLetters,
    rateLimiter,
    clock,
    log: silentLogger,
    senders: [tollFree, shortCode],
    maxAttempts: 4,
    uncertainPolicy: 'atMostOnce',
    controls: new FakeSendingControls(), // no pause, no hold
    allowedCountries: 'any' as const,
    random: () => 0.5,
    events: new RecordingSink(),
    tracker: new FakeTracker(),
    conversations: new FakeConversations(),
  };
});

function makeJob(count: number, from = shortCode.number, extra: Partial<SendJobV1> = {}): SendJobV1 {
  const batchId = newBatchId(clock.now());
  return {
    schema: SEND_JOB_SCHEMA_VERSION,
    jobId: `${batchId}.0`,
    batchId,
    from,
    message: 'Your appointment is tomorrow at 10:00',
    recipients: Array.from({ length: count }, (_, i) => ({
      messageId: messageIdOf(batchId, i),
      to: `+1425555${String(1000 + i)}`,
    })),
    deliveryReport: true,
    attempt: 1,
    kind: 'message',
    ...extra,
  };
}

async function seed(job: SendJobV1, overrides: Partial<MessageRecord> = {}) {
  const at = clock.now().toISOString();
  await messages.insertBatch(
    job.recipients.map((r) => ({
      messageId: r.messageId,
      batchId: job.batchId,
      from: job.from,
      to: r.to,
      body: job.message,
      encoding: 'GSM-7',
      segments: 1,
      deliveryReport: true,
      status: 'queued',
      history: [{ status: 'queued', at }],
      createdAt: at,
      updatedAt: at,
      attempts: 0,
      ...overrides,
    })),
  );
}

const statuses = () => [...messages.rows.values()].map((r) => r.status);

describe('processSendJob', () => {
  it('hands a job to ACS in one request and records every recipient sent with its ACS id', async () => {
    const job = makeJob(5);
    await seed(job);
    const outcome = await processSendJob(deps, job);
    expect(outcome).toMatchObject({ kind: 'processed', sent: 5 });
    expect(gateway.requests).toHaveLength(1);
    expect(gateway.requests[0]!.tag).toBe(job.batchId);
    expect(statuses()).toEqual(Array(5).fill('sent'));
    for (const r of messages.rows.values()) {
      expect(r.acsMessageId).toMatch(/^2026/);
      expect(r.history.map((h) => h.status)).toEqual(['queued', 'sending', 'sent']);
      expect(await messages.messageIdForAcsMessageId(r.acsMessageId!)).toBe(r.messageId);
    }
  });

  it('tags a request to one recipient with its message id, so the report finds the record by a point read', async () => {
    const job = makeJob(1);
    await seed(job);
    await processSendJob(deps, job);
    expect(gateway.requests.map((r) => r.tag)).toEqual([job.recipients[0]!.messageId]);
  });

  it('sends nothing again when the same job is delivered twice', async () => {
    const job = makeJob(3);
    await seed(job);
    await processSendJob(deps, job);
    const second = await processSendJob(deps, job);
    expect(second).toMatchObject({ kind: 'processed', sent: 0, skipped: 3 });
    expect(gateway.delivered).toHaveLength(3);
    expect(gateway.requests).toHaveLength(1);
  });

  it('stores the repeatability first-sent time before the hand-over and repeats it on retry', async () => {
    const job = makeJob(2);
    await seed(job);
    gateway.script.push('timeout-processed'); // ACS sent it, the answer was lost
    const first = await processSendJob(deps, job);
    expect(first).toMatchObject({ retrying: 2 });
    expect(statuses()).toEqual(['sending', 'sending']);
    const retry = queue.take()!;
    expect(retry.attempt).toBe(2);
    // An uncertain failure is retried inside the repeatability window.
    expect(Date.parse(retry.notBefore!) - clock.now().getTime()).toBeLessThan(REPEATABILITY_WINDOW_MS);
    clock.advance(Date.parse(retry.notBefore!) - clock.now().getTime());
    const second = await processSendJob(deps, retry);
    expect(second).toMatchObject({ sent: 2 });
    const [a, b] = gateway.requests;
    expect(b!.recipients.map((r) => r.repeatabilityRequestId)).toEqual(a!.recipients.map((r) => r.repeatabilityRequestId));
    expect(b!.recipients.map((r) => r.repeatabilityFirstSent)).toEqual(a!.recipients.map((r) => r.repeatabilityFirstSent));
    expect(gateway.delivered).toHaveLength(2); // exactly once per handset
    expect(statuses()).toEqual(['sent', 'sent']);
  });

  it('never sends again when the outcome is uncertain and the repeatability window has passed: unknown at once', async () => {
    const job = makeJob(1);
    await seed(job);
    gateway.script.push('timeout-processed');
    await processSendJob(deps, job);
    clock.advance(REPEATABILITY_WINDOW_MS + 1000);
    const late = await processSendJob(deps, { ...job, jobId: `${job.batchId}.late` });
    expect(late).toMatchObject({ uncertain: 1, sent: 0 });
    expect(gateway.requests).toHaveLength(1);
    // Decided now, not left "sending" until the 72-hour deadline; a report that still comes moves it on.
    expect(statuses()).toEqual(['unknown']);
    expect([...messages.rows.values()][0]!.history.at(-1)).toMatchObject({ status: 'unknown', code: 'handover-uncertain' });
  });

  it('with SEND_UNCERTAIN_POLICY=atLeastOnce, sends such a message again under a new repeatability window', async () => {
    deps = { ...deps, uncertainPolicy: 'atLeastOnce' };
    const job = makeJob(1);
    await seed(job);
    gateway.script.push('timeout');
    await processSendJob(deps, job);
    const firstSent = [...messages.rows.values()][0]!.repeatabilityFirstSent;
    clock.advance(REPEATABILITY_WINDOW_MS + 1000);
    expect(await processSendJob(deps, { ...job, jobId: `${job.batchId}.late` })).toMatchObject({ uncertain: 1, sent: 1 });
    expect(gateway.requests).toHaveLength(2);
    expect(gateway.requests[1]!.recipients[0]!.repeatabilityFirstSent).not.toBe(firstSent);
    expect(statuses()).toEqual(['sent']);
  });

  it('keeps the window of a hand-over that may have reached ACS, even after later 429s: never twice', async () => {
    gateway.window = { clock, ms: REPEATABILITY_WINDOW_MS };
    const job = makeJob(1);
    await seed(job);
    gateway.script.push('timeout-processed', '429'); // ACS took it; the answer was lost; then ACS throttles
    await processSendJob(deps, job);
    let retry = queue.take()!;
    clock.advance(Date.parse(retry.notBefore!) - clock.now().getTime());
    await processSendJob(deps, retry);
    const record = [...messages.rows.values()][0]!;
    expect(record.handoverUncertain).toBe(true);
    expect(record.repeatabilityFirstSent).toBeDefined();
    // ACS throttled for longer than its window: it no longer knows the id.
    retry = queue.take()!;
    clock.advance(REPEATABILITY_WINDOW_MS + 60_000);
    expect(await processSendJob(deps, retry)).toMatchObject({ sent: 0, uncertain: 1 });
    expect(gateway.delivered).toHaveLength(1);
    expect(statuses()).toEqual(['unknown']); // decided at once; its delivery report still moves it on
  });

  it("treats a recipient missing from ACS's answer as uncertain: the retry repeats its window", async () => {
    const job = makeJob(2);
    await seed(job);
    const send = gateway.send.bind(gateway);
    gateway.send = async (request) => (await send(request)).slice(0, 1);
    expect(await processSendJob(deps, job)).toMatchObject({ sent: 1, retrying: 1 });
    const missing = messages.rows.get(job.recipients[1]!.messageId)!;
    expect(missing.status).toBe('sending');
    expect(missing.repeatabilityFirstSent).toBeDefined();
    expect(missing.handoverUncertain).toBe(true);
  });

  it('backs off on 429, honouring Retry-After, and opens a fresh window since nothing was sent', async () => {
    const job = makeJob(2);
    await seed(job);
    gateway.script.push('429');
    await processSendJob(deps, job);
    const retry = queue.take()!;
    expect(Date.parse(retry.notBefore!) - clock.now().getTime()).toBeGreaterThanOrEqual(1000);
    expect(retry.lastError).toContain('429');
    for (const r of messages.rows.values()) expect(r.repeatabilityFirstSent).toBeUndefined();
  });

  it('fails a recipient ACS refuses permanently and does not retry it', async () => {
    const job = makeJob(2);
    await seed(job);
    gateway.permanentFailures.set(job.recipients[1]!.to, { code: '400', message: 'Invalid To phone number format.' });
    const outcome = await processSendJob(deps, job);
    expect(outcome).toMatchObject({ sent: 1, failed: 1, retrying: 0 });
    const failed = messages.rows.get(job.recipients[1]!.messageId)!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: '400', message: 'Invalid To phone number format.' });
    expect(queue.jobs).toHaveLength(0);
  });

  it('suppresses a recipient whose STOP was recorded after submit', async () => {
    const job = makeJob(3);
    await seed(job);
    await optOuts.add({
      sender: shortCode.number,
      recipient: job.recipients[0]!.to,
      source: 'keyword',
      at: clock.now().toISOString(),
    });
    const outcome = await processSendJob(deps, job);
    expect(outcome).toMatchObject({ sent: 2, suppressed: 1 });
    expect(messages.rows.get(job.recipients[0]!.messageId)!.status).toBe('suppressed');
    expect(gateway.delivered.some((d) => d.startsWith(job.recipients[0]!.to))).toBe(false);
  });

  it('suppresses a recipient whose STOP was recorded while the job waited for its pacing slot', async () => {
    const job = makeJob(3);
    await seed(job);
    rateLimiter.delayMs = 3000; // waited out inside the invocation
    const sleep = clock.sleep.bind(clock);
    clock.sleep = async (ms: number) => {
      await sleep(ms);
      await optOuts.add({
        sender: shortCode.number,
        recipient: job.recipients[1]!.to,
        source: 'keyword',
        at: clock.now().toISOString(),
      });
    };
    const outcome = await processSendJob(deps, job);
    expect(outcome).toMatchObject({ sent: 2, suppressed: 1 });
    const record = messages.rows.get(job.recipients[1]!.messageId)!;
    expect(record.status).toBe('suppressed');
    expect(record.repeatabilityFirstSent).toBeUndefined();
    expect(gateway.requests[0]!.recipients.map((r) => r.to)).not.toContain(job.recipients[1]!.to);
  });

  it('does not repeat an uncertain hand-over to a recipient who opted out meanwhile: unknown, left to its report', async () => {
    const job = makeJob(1);
    await seed(job);
    gateway.script.push('timeout');
    await processSendJob(deps, job);
    await optOuts.add({
      sender: shortCode.number,
      recipient: job.recipients[0]!.to,
      source: 'keyword',
      at: clock.now().toISOString(),
    });
    const retry = queue.take()!;
    clock.advance(Date.parse(retry.notBefore!) - clock.now().getTime());
    expect(await processSendJob(deps, retry)).toMatchObject({ sent: 0, uncertain: 1 });
    expect(gateway.requests).toHaveLength(1);
    expect(statuses()).toEqual(['unknown']);
  });

  it('lets an opt-out confirmation through to an opted-out recipient', async () => {
    const job = makeJob(1, shortCode.number, { kind: 'optOutConfirmation' });
    await seed(job);
    await optOuts.add({
      sender: shortCode.number,
      recipient: job.recipients[0]!.to,
      source: 'keyword',
      at: clock.now().toISOString(),
    });
    expect(await processSendJob(deps, job)).toMatchObject({ sent: 1 });
  });

  it('expires a message past its validity instead of sending it', async () => {
    const job = makeJob(1, shortCode.number, { expiresAt: new Date(clock.now().getTime() - 1).toISOString() });
    await seed(job);
    expect(await processSendJob(deps, job)).toMatchObject({ expired: 1, sent: 0 });
    expect(statuses()).toEqual(['expired']);
    expect(gateway.requests).toHaveLength(0);
  });

  it('never sends a canceled message', async () => {
    const job = makeJob(1);
    await seed(job, { status: 'canceled' });
    expect(await processSendJob(deps, job)).toMatchObject({ skipped: 1, sent: 0 });
    expect(gateway.requests).toHaveLength(0);
  });

  it('dead-letters an invalid queue message on first receipt with the validation error', async () => {
    const outcome = await processSendJob(deps, { schema: 'sms.sendjob/1', recipients: [] });
    expect(outcome.kind).toBe('deadLettered');
    expect(deadLetters.letters).toHaveLength(1);
    expect(deadLetters.letters[0]!.reason).toMatch(/jobId/);
    expect(await processSendJob(deps, '{not json')).toMatchObject({ kind: 'deadLettered', reason: 'queue message is not JSON' });
  });

  it('marks the messages an invalid job names failed with the validation error, creating missing records', async () => {
    const job = makeJob(2);
    await seed({ ...job, recipients: [job.recipients[0]!] });
    const invalid = { ...job, recipients: [job.recipients[0], { ...job.recipients[1], to: '12345' }], priority: 'high' };
    const outcome = await processSendJob(deps, JSON.stringify(invalid));
    expect(outcome.kind).toBe('deadLettered');
    expect(deadLetters.letters[0]).toMatchObject({ jobId: job.jobId, batchId: job.batchId });
    for (const r of job.recipients) {
      const record = messages.rows.get(r.messageId)!;
      expect(record.status, r.messageId).toBe('failed');
      expect(record.error?.code).toBe('invalid-job');
      expect(record.error?.message).toBe(deadLetters.letters[0]!.reason);
      expect(record.error?.message).toMatch(/recipients\.1\.to/);
    }
    expect(gateway.requests).toHaveLength(0);
  });

  it('leaves messages already handed over as they are when an invalid copy of their job arrives', async () => {
    const job = makeJob(1);
    await seed(job);
    await processSendJob(deps, job);
    await processSendJob(deps, { ...job, recipients: [{ ...job.recipients[0], to: 'nope' }] });
    expect(statuses()).toEqual(['sent']);
    expect(deadLetters.letters).toHaveLength(1);
  });

  it('gives up after the configured attempts: failed with the reason, and dead-lettered', async () => {
    const job = makeJob(1, shortCode.number, { attempt: 5, lastError: 'ACS answered 500 (HTTP 500)' });
    await seed(job);
    await processSendJob(deps, job);
    const record = [...messages.rows.values()][0]!;
    expect(record.status).toBe('failed');
    expect(record.error?.message).toBe('gave up after 4 attempts: ACS answered 500 (HTTP 500)');
    expect(deadLetters.letters[0]!.reason).toContain('gave up after 4 attempts');
  });

  it('splits a job larger than the sender may send at once, and re-enqueues the rest', async () => {
    const job = makeJob(5, tollFree.number);
    await seed(job);
    await processSendJob(deps, job);
    expect(gateway.requests[0]!.recipients).toHaveLength(3);
    expect(queue.jobs).toHaveLength(1);
    expect(queue.jobs[0]!.recipients).toHaveLength(2);
    expect(queue.jobs[0]!.jobId).not.toBe(job.jobId);
  });

  it('defers a job whose pacing slot is far ahead, keeping its reservation', async () => {
    rateLimiter.delayMs = 60_000;
    const job = makeJob(2);
    await seed(job);
    const outcome = await processSendJob(deps, job);
    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'pacing' });
    const deferred = queue.take()!;
    expect(deferred.reservedAt).toBeDefined();
    clock.advance(60_000);
    await processSendJob(deps, deferred);
    expect(rateLimiter.reservations).toHaveLength(1); // not reserved twice
    expect(statuses()).toEqual(['sent', 'sent']);
  });

  it('creates the records of a job another app enqueued directly', async () => {
    const job = makeJob(2);
    expect(await processSendJob(deps, job)).toMatchObject({ sent: 2 });
    expect(statuses()).toEqual(['sent', 'sent']);
  });

  it('keeps a delivery report that overtook the sender: the status stays delivered', async () => {
    const job = makeJob(1);
    await seed(job);
    const id = job.recipients[0]!.messageId;
    let calls = 0;
    const originalSaveAll = messages.saveAll.bind(messages);
    messages.saveAll = async (records) => {
      calls++;
      if (calls === 2) {
        // The report arrives between "sending" and "sent".
        const current = messages.rows.get(id)!;
        current.status = 'delivered';
        current.history.push({ status: 'delivered', at: clock.now().toISOString() });
        current.etag = 'changed-by-report';
      }
      return originalSaveAll(records);
    };
    await processSendJob(deps, job);
    const record = messages.rows.get(id)!;
    expect(record.status).toBe('delivered');
    expect(record.acsMessageId).toBeDefined();
  });
});
