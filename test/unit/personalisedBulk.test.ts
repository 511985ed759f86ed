// Personalised bulk on the fakes: a text per message and templates in one request, with the same
// validation, partial acceptance, opt-outs, Idempotency-Key and exactly-once as one text; send jobs
// that carry a text per recipient and make one ACS request per distinct text; references echoed.
import { beforeEach, describe, expect, it } from 'vitest';
import { depsOf } from '../../shared/composition.js';
import { messageIdOf } from '../../shared/domain/ids.js';
import {
  jobBytes,
  MAX_JOB_BYTES,
  parseSendJob,
  SEND_JOB_SCHEMA_V2,
  SEND_JOB_SCHEMA_VERSION,
  type SendJobV2,
} from '../../shared/domain/sendJob.js';
import type { MessageEventData } from '../../shared/domain/events.js';
import { withIdempotency } from '../../shared/http/idempotency.js';
import { previewView } from '../../shared/http/messagePreview.js';
import { submitMessagesRequest, submitResponse } from '../../shared/http/messages.js';
import { json, zodFieldErrors } from '../../shared/http/problem.js';
import { DependencyUnavailableError, SubmitInterruptedError } from '../../shared/ports/errors.js';
import { GatewayError } from '../../shared/ports/gateway.js';
import { previewMessages } from '../../shared/pipeline/previewMessages.js';
import { recoverWork } from '../../shared/pipeline/recoverWork.js';
import { processSendJob } from '../../shared/pipeline/send/processSendJob.js';
import { submitMessages } from '../../shared/pipeline/submitMessages.js';
import { putTemplate } from '../../shared/pipeline/templates.js';
import { fakeServices, shortCode, silentLogger, tollFree, type FakeServices } from '../support/fakes.js';

let s: FakeServices;
let deps: ReturnType<typeof depsOf>;

beforeEach(() => {
  s = fakeServices({ config: { senders: [shortCode] } }); // burst 100: one job per 100
  deps = depsOf(s);
});

const people = (n: number) => Array.from({ length: n }, (_, i) => `+1425555${String(1000 + i)}`);
const body = (value: unknown) => submitMessagesRequest.parse(value);
const submit = async (value: unknown, operation = {}) => {
  const result = await submitMessages(deps.submit(silentLogger), body(value), operation);
  return result.kind === 'accepted' ? { ...result, response: submitResponse(result) } : result;
};

/** Sends every job on the queue, and the jobs they put back, until none is left. */
async function drain(): Promise<void> {
  for (let job = s.queue.take(); job; job = s.queue.take()) {
    if (job.notBefore) s.clock.time = Math.max(s.clock.time, Date.parse(job.notBefore));
    await processSendJob(deps.send(silentLogger), job);
  }
}

/** What each handset got: "to|text" → how often. */
function inboxes(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of s.gateway.delivered) counts.set(d, (counts.get(d) ?? 0) + 1);
  return counts;
}

describe('a text per message', () => {
  it('records each message with its own text and reference, and sends them in jobs that carry each text', async () => {
    const to = people(250);
    const result = await submit({
      messages: to.map((t, i) => ({ to: t, text: `Hi #${i % 120}, see you at 10:00`, reference: `appt-${i}` })),
      tag: 'reminders',
    });
    if (result.kind !== 'accepted') throw new Error(JSON.stringify(result));
    expect(result.response.messages).toHaveLength(250);
    expect(result.response.messages[3]).toMatchObject({ to: to[3], reference: 'appt-3', segments: 1, encoding: 'GSM-7' });
    expect(result.response).not.toHaveProperty('segments');
    expect(s.queue.jobs.map((j) => [j.schema, j.recipients.length])).toEqual([
      [SEND_JOB_SCHEMA_V2, 100],
      [SEND_JOB_SCHEMA_V2, 100],
      [SEND_JOB_SCHEMA_V2, 50],
    ]);
    for (const job of s.queue.jobs) expect(parseSendJob(JSON.parse(JSON.stringify(job)))).toEqual({ ok: true, job });
    expect(s.messages.rows.get(messageIdOf(result.plan.batchId, 7))).toMatchObject({
      body: 'Hi #7, see you at 10:00',
      reference: 'appt-7',
      tag: 'reminders',
    });

    await drain();
    // One ACS request per distinct text of a job, and recipients of one text gathered into the same
    // job: 120 texts (#0-#9 three times, the rest twice) over 3 jobs make 45 + 50 + 25 requests.
    expect(s.gateway.requests).toHaveLength(120);
    expect([...inboxes().values()]).toEqual(Array(250).fill(1));
    expect(inboxes().has(`${to[200]}|Hi #80, see you at 10:00`)).toBe(true);
  });

  it('recipients of a job with the same text share one ACS request', async () => {
    const to = people(100);
    await submit({ messages: to.map((t, i) => ({ to: t, text: i % 2 ? 'Your table is ready' : 'Your order is ready' })) });
    await drain();
    expect(s.gateway.requests.map((r) => r.recipients.length).sort()).toEqual([50, 50]);
    expect(s.gateway.delivered).toHaveLength(100);
  });

  it('gathers the recipients of one text into the same jobs, so a large request takes as few ACS requests as the 100-per-request limit allows', async () => {
    const to = people(150);
    // Alternating texts in request order: taken in order, jobs of 100 would make 2 + 2 requests of 50 and 25.
    await submit({ messages: to.map((t, i) => ({ to: t, text: i % 2 ? 'Your table is ready' : 'Your order is ready' })) });
    await drain();
    expect(s.gateway.requests.map((r) => [r.message, r.recipients.length])).toEqual(
      expect.arrayContaining([
        ['Your order is ready', 75],
        ['Your table is ready', 25],
        ['Your table is ready', 50],
      ]),
    );
    expect(s.gateway.requests).toHaveLength(3);
    expect(s.gateway.delivered).toHaveLength(150);
  });

  it('a message that is wrong is named by its field; with partial: true the rest go on', async () => {
    const messages = [
      { to: '+14255551000', text: 'ok' },
      { to: '12', text: 'bad number' },
      { to: '+14255551001', text: 'x'.repeat(161 * 10) },
      { to: '+14255551000', text: 'same number again' },
      { to: '+14255551002', text: 'past', scheduledAt: '2020-01-01T00:00:00Z', reference: 'r-4' },
    ];
    const refused = await submit({ messages });
    expect(refused).toMatchObject({ kind: 'invalid' });
    expect(refused.kind === 'invalid' && refused.errors.map((e) => e.field)).toEqual([
      'messages[1].to',
      'messages[2].text',
      'messages[3].to',
      'messages[4].scheduledAt',
    ]);
    expect(refused.kind === 'invalid' && refused.errors[2]!.message).toBe(
      'is the number of messages[0] too: a request sends one message per number',
    );
    expect(s.messages.rows.size + s.queue.jobs.length).toBe(0);

    const partial = await submit({ messages, partial: true });
    if (partial.kind !== 'accepted') throw new Error(partial.kind);
    expect(partial.response.messages.map((m) => m.to)).toEqual(['+14255551000']);
    expect(partial.response.rejected.map((r) => r.field)).toEqual(['messages[1]', 'messages[2]', 'messages[3]', 'messages[4]']);
    expect(partial.response.rejected[3]).toMatchObject({ reference: 'r-4', reason: 'messages[4].scheduledAt: is in the past' });
    expect(partial.response.rejected[1]!.reason).toMatch(
      /^messages\[2\]\.text: needs 11 segments \(GSM-7\); at most 10 are allowed$/,
    );
  });

  it('validation speaks of the form the body is in', () => {
    const errors = (value: unknown) => zodFieldErrors(submitMessagesRequest.safeParse(value).error!).map((e) => e.field);
    expect(errors({ messages: [{ to: '+14255551000' }], message: 'x' })).toEqual(['messages[0].text', '(body)']);
    expect(errors({ template: 'x', to: [{ to: '+14255551000', variables: { a: 1 }, text: 'no' }] })).toEqual(['to[0]']);
    expect(errors({ to: '+14255551000' })).toEqual(['message']);
    expect(errors({ messages: [], reference: 'has space' })).toEqual(['messages', 'reference']);
  });

  it("a message's own time and metadata win over the request's; opted-out recipients are suppressed", async () => {
    await s.optOuts.add({ sender: shortCode.number, recipient: '+14255551001', source: 'keyword', at: '' });
    const later = new Date(s.clock.now().getTime() + 3600_000).toISOString();
    const result = await submit({
      messages: [
        { to: '+14255551000', text: 'now', metadata: { own: '1' } },
        { to: '+14255551001', text: 'opted out' },
        { to: '+14255551002', text: 'later', scheduledAt: later },
      ],
      metadata: { campaign: 'c1' },
      validFor: 600,
    });
    if (result.kind !== 'accepted') throw new Error(result.kind);
    expect(result.response.messages.map((m) => m.status)).toEqual(['queued', 'suppressed', 'scheduled']);
    const [now, , scheduled] = result.records;
    expect(now).toMatchObject({
      metadata: { campaign: 'c1', own: '1' },
      expiresAt: new Date(s.clock.now().getTime() + 600_000).toISOString(),
    });
    expect(scheduled).toMatchObject({
      metadata: { campaign: 'c1' },
      scheduledAt: later,
      expiresAt: new Date(Date.parse(later) + 600_000).toISOString(),
    });
    // Two jobs: now and later; the opted-out recipient is in none.
    expect(s.queue.jobs.map((j) => [j.notBefore, j.recipients.map((r) => r.to)])).toEqual([
      [undefined, ['+14255551000']],
      [later, ['+14255551002']],
    ]);
  });

  it('keeps every job small enough for a Storage queue message', async () => {
    const long = (i: number) => `${'€'.repeat(300)}${i}`; // UCS-2 would be 5 segments; GSM-7 extension
    s = fakeServices({ config: { senders: [shortCode], maxSegments: 10 } });
    deps = depsOf(s);
    const result = await submit({
      messages: people(100).map((to, i) => ({ to, text: long(i), metadata: { k: 'v'.repeat(200) } })),
    });
    expect(result.kind).toBe('accepted');
    expect(s.queue.jobs.length).toBeGreaterThan(1);
    expect(s.queue.jobs.reduce((n, j) => n + j.recipients.length, 0)).toBe(100);
    for (const job of s.queue.jobs) expect(jobBytes(job)).toBeLessThanOrEqual(MAX_JOB_BYTES);
  });
});

describe('templates', () => {
  beforeEach(async () => {
    await putTemplate(deps.templates(), {
      name: 'appointment-reminder',
      text: 'Hi {{name}}, your appointment is {{day}} at {{time}}.',
      locales: { de: 'Hallo {{name}}, Ihr Termin ist am {{day}} um {{time}}.' },
      category: 'transactional',
    });
  });

  it("renders each recipient's text with the locale's variant; the record keeps the rendered text and the version", async () => {
    const result = await submit({
      template: 'appointment-reminder',
      locale: 'de-AT',
      to: [
        { to: '+14255550170', variables: { name: 'Ana', day: 'Dienstag', time: '10:00' }, reference: 'a-1' },
        { to: '+14255550171', variables: { name: 'Bo\nb', day: 'Mittwoch', time: '11:00' } },
      ],
    });
    if (result.kind !== 'accepted') throw new Error(JSON.stringify(result));
    expect(result.response.template).toEqual({ name: 'appointment-reminder', version: 1, locale: 'de' });
    expect(result.records.map((r) => r.body)).toEqual([
      'Hallo Ana, Ihr Termin ist am Dienstag um 10:00.',
      'Hallo Bob, Ihr Termin ist am Mittwoch um 11:00.',
    ]);
    expect(result.records[0]).toMatchObject({
      reference: 'a-1',
      template: { name: 'appointment-reminder', version: 1, locale: 'de' },
    });
    const job = s.queue.jobs[0] as SendJobV2;
    expect(job).toMatchObject({
      schema: SEND_JOB_SCHEMA_V2,
      template: { name: 'appointment-reminder', version: 1, locale: 'de' },
    });
    await drain();
    expect([...inboxes().keys()]).toEqual(result.records.map((r) => `${r.to}|${r.body}`));
  });

  it('a missing or extra variable is an error of that recipient, naming the variable', async () => {
    const refused = await submit({
      template: 'appointment-reminder',
      to: [
        { to: '+14255551000', variables: { name: 'Ana', day: 'Tue', time: '10:00' } },
        { to: '+14255551001', variables: { name: 'Bo', day: 'Wed', tim: '11:00' } },
        { to: '+14255551002', variables: { name: 'x'.repeat(300), day: 'Thu', time: '12:00' } },
      ],
    });
    expect(refused).toEqual({
      kind: 'invalid',
      errors: [
        { field: 'to[1].variables.time', message: 'is missing: the template uses {{time}}' },
        { field: 'to[1].variables.tim', message: 'is not used by the template (it uses {{name}}, {{day}}, {{time}})' },
        { field: 'to[2].variables.name', message: 'must be at most 256 characters (got 300)' },
      ],
    });
    const partial = await submit({
      template: 'appointment-reminder',
      partial: true,
      to: [
        { to: '+14255551000', variables: { name: 'Ana', day: 'Tue', time: '10:00' } },
        { to: '+14255551001', variables: {} },
      ],
    });
    if (partial.kind !== 'accepted') throw new Error(partial.kind);
    expect(partial.response.rejected).toEqual([
      { to: '+14255551001', field: 'to[1]', reason: expect.stringContaining('to[1].variables.name: is missing') },
    ]);
  });

  it('an unknown template is an error of the request', async () => {
    expect(await submit({ template: 'nope', to: [{ to: '+14255551000', variables: {} }] })).toEqual({
      kind: 'invalid',
      errors: [{ field: 'template', message: 'no template is named "nope"' }],
    });
  });

  it('preview shows each rendered text with its encoding and segments, the total segments and the estimated cost', async () => {
    const result = await previewMessages(
      deps.preview(),
      body({
        template: 'appointment-reminder',
        to: [
          { to: '+14255551000', variables: { name: 'Ana', day: 'Tuesday', time: '10:00' } },
          { to: '+14255551001', variables: { name: 'Zoë 😀', day: 'Tuesday', time: '10:00' } },
        ],
      }),
    );
    if (result.kind !== 'preview') throw new Error(result.kind);
    const view = previewView(result.preview);
    expect(view.recipients.map((r) => [r.text, r.encoding, r.segments])).toEqual([
      ['Hi Ana, your appointment is Tuesday at 10:00.', 'GSM-7', 1],
      ['Hi Zoë 😀, your appointment is Tuesday at 10:00.', 'UCS-2', 1],
    ]);
    expect(view.template).toEqual({ name: 'appointment-reminder', version: 1, category: 'transactional' });
    expect(view.totals).toMatchObject({ sendable: 2, segments: 2, distinctTexts: 2, estimatedCost: 0.015, currency: 'USD' });
    expect(s.messages.rows.size + s.queue.jobs.length).toBe(0);
  });
});

describe('exactly once, for a text per message', () => {
  beforeEach(() => {
    s = fakeServices({ config: { senders: [tollFree] } }); // burst 3: several jobs
    deps = depsOf(s);
  });
  const messages = (n: number) => people(n).map((to, i) => ({ to, text: `Your code is ${100000 + i}`, reference: `otp-${i}` }));

  it('a retry with the same key and body is the same batch with the same message ids, sent once', async () => {
    const run = (op: { operationId?: string; resumed: boolean }) => async () => {
      const result = await submitMessages(deps.submit(silentLogger), body({ messages: messages(7) }), {
        ...(op.operationId ? { batchId: op.operationId } : {}),
        resumed: op.resumed,
      });
      if (result.kind !== 'accepted') throw new Error(result.kind);
      return json(202, submitResponse(result));
    };
    const options = { clock: s.clock, log: silentLogger, newOperationId: () => '01kmx3f2g0abcdefghjkmn', waitMs: 0 };
    // The first attempt stores its submission, and the answer is lost.
    const create = s.submissions.create.bind(s.submissions);
    let calls = 0;
    s.submissions.create = async (submission) => {
      const stored = await create(submission);
      if (++calls === 1) throw new DependencyUnavailableError('storage', 'storage did not answer', { uncertain: true });
      return stored;
    };
    await expect(withIdempotency(s.idempotency, 'k', { m: 1 }, (op) => run(op)(), options)).rejects.toBeInstanceOf(
      SubmitInterruptedError,
    );
    const retried = await withIdempotency(s.idempotency, 'k', { m: 1 }, (op) => run(op)(), options);
    const again = await withIdempotency(s.idempotency, 'k', { m: 1 }, (op) => run(op)(), options);
    expect(retried.status).toBe(202);
    const ids = (r: typeof retried) =>
      (JSON.parse(r.body!) as { messages: Array<{ messageId: string; reference: string }> }).messages.map(
        (m) => `${m.messageId}/${m.reference}`,
      );
    expect(ids(again)).toEqual(ids(retried));
    expect(ids(retried)).toEqual(
      messages(7).map((m, i) => `01kmx3f2g0abcdefghjkmn-${String(i).padStart(3, '0')}/${m.reference}`),
    );
    await drain();
    expect([...inboxes().values()]).toEqual(Array(7).fill(1));
  });

  it("a submission left behind is finished by the recovery timer with each message's own text", async () => {
    const insert = s.messages.insertBatch.bind(s.messages);
    s.messages.insertBatch = async () => {
      throw new DependencyUnavailableError('storage', 'storage did not answer', { uncertain: true });
    };
    const result = await submit({ messages: messages(7) });
    expect(result.kind).toBe('accepted');
    s.messages.insertBatch = insert;
    s.clock.advance(60_000);
    expect(await recoverWork(deps.recovery(silentLogger))).toMatchObject({ submissionsCompleted: 1 });
    await drain();
    expect([...inboxes().keys()].sort()).toEqual(
      messages(7)
        .map((m) => `${m.to}|${m.text}`)
        .sort(),
    );
    expect([...inboxes().values()]).toEqual(Array(7).fill(1));
  });

  it('an interrupted hand-over of a job with several texts is redriven with each text, ACS sending each once', async () => {
    s = fakeServices({ config: { senders: [shortCode] } });
    deps = depsOf(s);
    await submit({ messages: messages(5) });
    const job = s.queue.take()!;
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
    s.clock.advance(45_000);
    expect(await recoverWork(deps.recovery(silentLogger))).toMatchObject({ handOversResumed: 5 });
    const redriven = s.queue.jobs[0]!;
    expect(redriven.schema).toBe(SEND_JOB_SCHEMA_V2);
    await drain();
    expect([...inboxes().keys()].sort()).toEqual(
      messages(5)
        .map((m) => `${m.to}|${m.text}`)
        .sort(),
    );
    expect([...inboxes().values()]).toEqual(Array(5).fill(1));
  });
});

describe('the sender with a job of several texts', () => {
  it('decides failed requests by kind: a refusal fails its recipients, a 429 retries them in one job', async () => {
    await submit({ messages: people(6).map((to, i) => ({ to, text: `text ${i % 3}` })) });
    const job = s.queue.take()!;
    const send = s.gateway.send.bind(s.gateway);
    let n = 0;
    s.gateway.send = async (request) => {
      n++;
      if (request.message === 'text 1')
        throw new GatewayError('ACS answered 400', { transient: false, uncertain: false, status: 400 });
      if (request.message === 'text 2')
        throw new GatewayError('ACS answered 429', { transient: true, uncertain: false, status: 429, retryAfterMs: 3000 });
      return send(request);
    };
    const outcome = await processSendJob(deps.send(silentLogger), job);
    expect(n).toBe(3);
    expect(outcome).toMatchObject({ kind: 'processed', sent: 2, failed: 2, retrying: 2 });
    expect(s.queue.jobs).toHaveLength(1);
    const retry = s.queue.jobs[0]!;
    expect(retry.recipients.map((r) => ('text' in r ? r.text : '?'))).toEqual(['text 2', 'text 2']);
    expect(Date.parse(retry.notBefore!) - s.clock.now().getTime()).toBeGreaterThanOrEqual(3000);
  });

  it('takes a version 1 job as before: one request for all', async () => {
    await submit({ to: people(5), message: 'one text' });
    expect(s.queue.jobs[0]!.schema).toBe(SEND_JOB_SCHEMA_VERSION);
    await drain();
    expect(s.gateway.requests).toHaveLength(1);
  });

  it('creates the records of a version 2 job another app enqueued, with their texts and references', async () => {
    const job = {
      schema: SEND_JOB_SCHEMA_V2,
      jobId: 'partner_1.0',
      batchId: 'partner_1',
      from: shortCode.number,
      recipients: [
        { messageId: 'partner_1-0', to: '+14255551000', text: 'Hello A', reference: 'p-a' },
        { messageId: 'partner_1-1', to: '+14255551001', text: 'Hello B', metadata: { k: 'v' } },
      ],
    };
    expect(await processSendJob(deps.send(silentLogger), JSON.stringify(job))).toMatchObject({ kind: 'processed', sent: 2 });
    expect(s.messages.rows.get('partner_1-0')).toMatchObject({ body: 'Hello A', reference: 'p-a', status: 'sent' });
    expect(s.messages.rows.get('partner_1-1')).toMatchObject({ body: 'Hello B', metadata: { k: 'v' } });
    expect(s.gateway.requests.map((r) => r.message).sort()).toEqual(['Hello A', 'Hello B']);
  });

  it('echoes the reference and the template in every status event', async () => {
    const seen: MessageEventData[] = [];
    s = fakeServices({
      config: { senders: [shortCode] },
      destinations: [
        {
          name: 'spy',
          types: new Set(['sms.message.queued', 'sms.message.sending', 'sms.message.sent']),
          immediate: true,
          deliver: async (events) => void seen.push(...events.map((e) => e.data as MessageEventData)),
        },
      ],
    });
    deps = depsOf(s);
    await putTemplate(deps.templates(), { name: 'otp', text: 'Code {{code}}', locales: {}, category: 'transactional' });
    await submit({ template: 'otp', to: [{ to: '+14255551000', variables: { code: 123456 }, reference: 'login-7' }] });
    await drain();
    expect(seen.map((d) => d.status)).toEqual(['queued', 'sending', 'sent']);
    for (const d of seen) expect(d).toMatchObject({ reference: 'login-7', template: { name: 'otp', version: 1 } });
  });
});
