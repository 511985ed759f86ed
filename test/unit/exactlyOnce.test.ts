// Exactly once, whatever stops a request or a hand-over half way: a submit is all or nothing, a
// retry with its Idempotency-Key finishes the same batch, the recovery timer finishes what nobody
// retries, and a hand-over interrupted mid-request is completed while ACS can still tell a repeat.
import { beforeEach, describe, expect, it } from 'vitest';
import { depsOf } from '../../shared/composition.js';
import { messageIdOf } from '../../shared/domain/ids.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { withIdempotency } from '../../shared/http/idempotency.js';
import { submitMessagesBody, submitResponse } from '../../shared/http/messages.js';
import { json } from '../../shared/http/problem.js';
import { DependencyUnavailableError, SubmitInterruptedError } from '../../shared/ports/errors.js';
import { recordDeliveryReport } from '../../shared/pipeline/deliveryReports.js';
import { recoverWork } from '../../shared/pipeline/recoverWork.js';
import { processSendJob } from '../../shared/pipeline/send/processSendJob.js';
import { REPEATABILITY_WINDOW_MS } from '../../shared/pipeline/send/triage.js';
import { submitMessages } from '../../shared/pipeline/submitMessages.js';
import { fakeServices, silentLogger, tollFree, type FakeServices } from '../support/fakes.js';

let s: FakeServices;
let deps: ReturnType<typeof depsOf>;

beforeEach(() => {
  s = fakeServices({ config: { senders: [tollFree] } }); // burst 3: more than 3 recipients is several jobs
  deps = depsOf(s);
});

const body = (to: string[]) => submitMessagesBody.parse({ to, message: 'Your appointment is tomorrow at 10:00' });
const people = (n: number) => Array.from({ length: n }, (_, i) => `+1425555${String(1000 + i)}`);
const outage = (uncertain: boolean) => new DependencyUnavailableError('storage', 'storage did not answer', { uncertain });

/** Sends every job on the queue, and the jobs they put back, until none is left. */
async function drain(): Promise<void> {
  for (let job = s.queue.take(); job; job = s.queue.take()) {
    if (job.notBefore) s.clock.time = Math.max(s.clock.time, Date.parse(job.notBefore));
    await processSendJob(deps.send(silentLogger), job);
  }
}

/** Each handset's texts: a duplicate is the same text twice on one. */
function inboxes(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of s.gateway.delivered) counts.set(d, (counts.get(d) ?? 0) + 1);
  return counts;
}

describe('a submit is all or nothing', () => {
  it('a batch of several jobs stores its submission first, then records and jobs, then forgets it', async () => {
    const result = await submitMessages(deps.submit(silentLogger), body(people(7)));
    expect(result.kind).toBe('accepted');
    expect(s.messages.rows.size).toBe(7);
    expect(s.queue.jobs.map((j) => j.recipients.length)).toEqual([3, 3, 1]);
    expect(s.submissions.rows.size).toBe(0);
  });

  it('a failed point of no return that may have taken effect names the batch, so the app can look', async () => {
    s.submissions.beforeCreate = () => {
      throw outage(true);
    };
    const error = await submitMessages(deps.submit(silentLogger), body(people(7))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitInterruptedError);
    expect((error as SubmitInterruptedError).batchId).toMatch(/^[0-9a-z]{22}$/);
    s.submissions.beforeCreate = () => {
      throw outage(false);
    };
    const certain = await submitMessages(deps.submit(silentLogger), body(people(7))).catch((e: unknown) => e);
    expect(certain).not.toBeInstanceOf(SubmitInterruptedError);
    expect((certain as DependencyUnavailableError).uncertain).toBe(false);
    expect(s.messages.rows.size + s.queue.jobs.length).toBe(0);
  });

  it('past its point of no return a submit is accepted though storage fails; the recovery timer completes it', async () => {
    const insert = s.messages.insertBatch.bind(s.messages);
    s.messages.insertBatch = async () => {
      throw outage(true);
    };
    const result = await submitMessages(deps.submit(silentLogger), body(people(7)));
    expect(result.kind).toBe('accepted');
    expect(s.submissions.rows.size).toBe(1);
    expect(s.messages.rows.size).toBe(0);
    s.messages.insertBatch = insert;

    s.clock.advance(60_000);
    expect(await recoverWork(deps.recovery(silentLogger))).toMatchObject({ submissionsCompleted: 1 });
    expect(s.messages.rows.size).toBe(7);
    expect(s.submissions.rows.size).toBe(0);
    await drain();
    expect([...inboxes().values()]).toEqual(Array(7).fill(1));
  });

  it('a retry under the same batch finishes what the first attempt left and sends nothing twice', async () => {
    // The first attempt stored its submission and wrote two records, then its process died.
    const first = await submitMessages(deps.submit(silentLogger), body(people(7)));
    if (first.kind !== 'accepted') throw new Error(first.kind);
    const batchId = first.plan.batchId;
    await drain();
    expect(s.gateway.delivered).toHaveLength(7);
    for (const id of [2, 3, 4, 5, 6]) s.messages.rows.delete(messageIdOf(batchId, id));

    const retry = await submitMessages(deps.submit(silentLogger), body(people(7)), { batchId, resumed: true });
    if (retry.kind !== 'accepted') throw new Error(retry.kind);
    expect(retry.plan.batchId).toBe(batchId);
    expect(submitResponse(retry).messages.map((m) => m.messageId)).toEqual(
      submitResponse(first).messages.map((m) => m.messageId),
    );
    await drain();
    // The two records the retry found were kept; the handsets that had the text got it once.
    expect(s.messages.rows.get(messageIdOf(batchId, 0))!.status).toBe('sent');
    expect(Math.max(...inboxes().values())).toBe(1);
  });
});

describe('an Idempotency-Key is one batch', () => {
  const run = (operation: { operationId?: string; resumed: boolean }) => async () => {
    const result = await submitMessages(deps.submit(silentLogger), body(people(5)), {
      ...(operation.operationId ? { batchId: operation.operationId } : {}),
      resumed: operation.resumed,
    });
    if (result.kind !== 'accepted') throw new Error(result.kind);
    return json(202, submitResponse(result));
  };
  const options = () => ({
    clock: s.clock,
    log: silentLogger,
    newOperationId: () => `01kmx3f2g0${String(Math.random()).slice(2, 14).padEnd(12, '0')}`,
    waitMs: 0,
  });

  it('a request that failed keeps its key and batch: the retry takes over at once and finishes that batch', async () => {
    const create = s.submissions.create.bind(s.submissions);
    let calls = 0;
    s.submissions.create = async (submission) => {
      const stored = await create(submission);
      if (++calls === 1) throw outage(true); // stored, but the answer was lost
      return stored;
    };
    await expect(withIdempotency(s.idempotency, 'k1', { a: 1 }, (op) => run(op)(), options())).rejects.toBeInstanceOf(
      SubmitInterruptedError,
    );
    const batches = [...s.submissions.rows.keys()];
    const retried = await withIdempotency(s.idempotency, 'k1', { a: 1 }, (op) => run(op)(), options());
    expect(retried.status).toBe(202);
    expect(JSON.parse(retried.body!).batchId).toBe(batches[0]);
    await drain();
    expect([...inboxes().values()]).toEqual(Array(5).fill(1));
  });
});

describe('a hand-over interrupted mid-request', () => {
  async function interruptedHandOver(): Promise<MessageRecord> {
    const result = await submitMessages(deps.submit(silentLogger), body(people(1)));
    if (result.kind !== 'accepted') throw new Error(result.kind);
    const job = s.queue.take()!;
    // ACS takes the request, then the process dies before it records the answer.
    const send = s.gateway.send.bind(s.gateway);
    const saveAll = s.messages.saveAll.bind(s.messages);
    s.gateway.send = async (request) => {
      const results = await send(request);
      s.messages.saveAll = async () => {
        throw new Error('process killed');
      };
      return results;
    };
    await expect(processSendJob(deps.send(silentLogger), job)).rejects.toThrow('process killed');
    s.gateway.send = send;
    s.messages.saveAll = saveAll;
    return s.messages.rows.get(job.recipients[0]!.messageId)!;
  }

  it('is left in flight, and the recovery timer repeats it inside the window: one text', async () => {
    const record = await interruptedHandOver();
    expect(record.status).toBe('sending');
    s.clock.advance(45_000);
    expect(await recoverWork(deps.recovery(silentLogger))).toMatchObject({ handOversResumed: 1 });
    await drain();
    expect(s.messages.rows.get(record.messageId)!.status).toBe('sent');
    expect(s.gateway.delivered).toHaveLength(1);
    expect(s.gateway.requests).toHaveLength(2); // the repeat reached ACS, which sent nothing twice
  });

  it('past the window it is decided at once: unknown, never a second text', async () => {
    const record = await interruptedHandOver();
    s.clock.advance(REPEATABILITY_WINDOW_MS + 60_000);
    expect(await recoverWork(deps.recovery(silentLogger))).toMatchObject({ handOversDecided: 1 });
    expect(s.messages.rows.get(record.messageId)!.history.at(-1)).toMatchObject({
      status: 'unknown',
      code: 'handover-uncertain',
    });
    await drain();
    expect(s.gateway.delivered).toHaveLength(1);
  });
});

describe('a delivery report', () => {
  it('never settles a message that was not handed to ACS: it is parked', async () => {
    const result = await submitMessages(deps.submit(silentLogger), body(people(1)));
    if (result.kind !== 'accepted') throw new Error(result.kind);
    const record = result.records[0]!;
    const report = {
      id: 'r1',
      eventType: 'Microsoft.Communication.SMSDeliveryReportReceived',
      eventTime: s.clock.now().toISOString(),
      data: {
        messageId: 'Outgoing_20261125100000aaaa',
        from: tollFree.number,
        to: record.to,
        deliveryStatus: 'Delivered',
        tag: record.batchId,
      },
    };
    expect(await recordDeliveryReport(deps.deliveryReport(silentLogger), report)).toMatchObject({ kind: 'unknownMessage' });
    expect(s.messages.rows.get(record.messageId)!.status).toBe('queued');
    expect(s.tracker.parkedReports).toHaveLength(1);
  });

  it('with text that is not well formed is refused as bad input, not a server error', async () => {
    const report = {
      id: 'r2',
      eventType: 'Microsoft.Communication.SMSDeliveryReportReceived',
      data: { messageId: 'x', from: tollFree.number, to: '+1425\ud800', deliveryStatus: 'Delivered' },
    };
    expect(await recordDeliveryReport(deps.deliveryReport(silentLogger), report)).toMatchObject({
      kind: 'malformed',
      reason: 'to is not well-formed text',
    });
  });
});
