import { beforeEach, describe, expect, it } from 'vitest';
import { stickySender } from '../../shared/domain/sender.js';
import { submitMessagesBody, submitResponse } from '../../shared/http/messages.js';
import { submitMessages, type SubmitDeps } from '../../shared/pipeline/submitMessages.js';
import {
  FakeClock,
  FakeMessageStore,
  FakeOptOuts,
  FakeQueue,
  FakeSubmissions,
  FakeTemplates,
  openGuard,
  RecordingSink,
  shortCode,
  silentLogger,
  tollFree,
  sendRuleDeps,
} from '../support/fakes.js';

let clock: FakeClock;
let messages: FakeMessageStore;
let queue: FakeQueue;
let optOuts: FakeOptOuts;
let deps: SubmitDeps;

beforeEach(() => {
  clock = new FakeClock();
  messages = new FakeMessageStore();
  queue = new FakeQueue();
  optOuts = new FakeOptOuts();
  deps = {
    ...openGuard(),
    ...sendRuleDeps(),
    messages,
    queue,
    optOuts,
    clock,
    log: silentLogger,
    senders: [shortCode],
    maxSegments: 3,
    events: new RecordingSink(),
    submissions: new FakeSubmissions(),
    templates: new FakeTemplates(),
  };
});

/** A submit, its accepted result with the response the API answers with. */
const submit = async (body: unknown) => {
  const result = await submitMessages(deps, submitMessagesBody.parse(body));
  return result.kind === 'accepted' ? { ...result, response: submitResponse(result) } : result;
};

describe('submitMessages', () => {
  it('normalises and de-duplicates recipients, records each, and enqueues one job per 100', async () => {
    const to = Array.from({ length: 250 }, (_, i) => `1 (425) 555-${String(1000 + i)}`);
    const result = await submit({ to: [...to, '+14255551000'], message: 'Hello' });
    if (result.kind !== 'accepted') throw new Error(JSON.stringify(result));
    expect(result.response.messages).toHaveLength(250);
    expect(result.response.messages[0]).toMatchObject({ to: '+14255551000', status: 'queued', segments: 1, encoding: 'GSM-7' });
    expect(queue.jobs.map((j) => j.recipients.length)).toEqual([100, 100, 50]);
    expect(messages.rows.size).toBe(250);
  });

  it('refuses the whole request for one invalid number, naming it, and writes nothing', async () => {
    const result = await submit({ to: ['+14255550123', '12'], message: 'Hello' });
    expect(result).toEqual({
      kind: 'invalid',
      errors: [{ field: 'to[1]', message: 'has 2 digits; a full international number has at least 8' }],
    });
    expect(messages.rows.size).toBe(0);
    expect(queue.jobs).toHaveLength(0);
  });

  it('with partial: true accepts the valid numbers and reports the rest', async () => {
    const result = await submit({ to: ['+14255550123', 'call me'], message: 'Hello', partial: true });
    if (result.kind !== 'accepted') throw new Error('expected accepted');
    expect(result.response.messages).toHaveLength(1);
    expect(result.response.rejected).toEqual([{ to: 'call me', reason: 'contains a letter' }]);
  });

  it('records opted-out recipients as suppressed and does not enqueue them', async () => {
    await optOuts.add({ sender: shortCode.number, recipient: '+14255550123', source: 'keyword', at: '' });
    const result = await submit({ to: ['+14255550123', '+14255550124'], message: 'Hello' });
    if (result.kind !== 'accepted') throw new Error('expected accepted');
    expect(result.response.messages.map((m) => m.status)).toEqual(['suppressed', 'queued']);
    expect(queue.jobs[0]!.recipients.map((r) => r.to)).toEqual(['+14255550124']);
  });

  it('enforces the maximum of segments with a clear error', async () => {
    const result = await submit({ to: '+14255550123', message: 'x'.repeat(153 * 3 + 1) });
    expect(result).toEqual({
      kind: 'invalid',
      errors: [{ field: 'message', message: 'needs 4 segments (GSM-7); at most 3 are allowed' }],
    });
  });

  it('schedules and expires: scheduled status, notBefore and expiresAt on the job', async () => {
    const at = new Date(clock.now().getTime() + 3600_000).toISOString();
    const result = await submit({ to: '+14255550123', message: 'Later', scheduledAt: at, validFor: 600 });
    if (result.kind !== 'accepted') throw new Error('expected accepted');
    expect(result.response.messages[0]!.status).toBe('scheduled');
    expect(queue.jobs[0]!.notBefore).toBe(at);
    expect(queue.jobs[0]!.expiresAt).toBe(new Date(Date.parse(at) + 600_000).toISOString());
    expect(await submit({ to: '+14255550123', message: 'x', scheduledAt: '2020-01-01T00:00:00Z' })).toMatchObject({
      kind: 'invalid',
    });
    expect(
      await submit({
        to: '+14255550123',
        message: 'x',
        scheduledAt: new Date(clock.now().getTime() + 36 * 86400_000).toISOString(),
      }),
    ).toMatchObject({
      kind: 'invalid',
      errors: [{ field: 'scheduledAt', message: 'is more than 35 days ahead' }],
    });
  });

  it('refuses a sender outside the pool and picks a sticky sender otherwise', async () => {
    expect(await submit({ to: '+14255550123', message: 'x', from: '+19999999999' })).toMatchObject({
      kind: 'invalid',
      errors: [{ field: 'from' }],
    });
    const pool = [tollFree, shortCode];
    const chosen = stickySender(pool, '+14255550123');
    for (let i = 0; i < 5; i++) expect(stickySender(pool, '+14255550123')).toBe(chosen);
    const spread = new Set(Array.from({ length: 50 }, (_, i) => stickySender(pool, `+1425555${1000 + i}`).number));
    expect(spread.size).toBe(2);
  });

  it('splits jobs by the sender burst so one ACS request never exceeds the rate', async () => {
    deps.senders = [tollFree];
    await submit({ to: Array.from({ length: 7 }, (_, i) => `+1425555${1000 + i}`), message: 'x' });
    expect(queue.jobs.map((j) => j.recipients.length)).toEqual([3, 3, 1]);
  });
});
