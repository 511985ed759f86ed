// The local host's Event Grid webhook against the Functions host's protocol (Azure/azure-sdk-for-net
// Microsoft.Azure.WebJobs.Extensions.EventGrid: HttpRequestProcessor.cs, EventGridExtensionConfigProvider.cs):
// header casings, both validation forms, Unsubscribe, missing and unknown headers, the OPTIONS
// handshake's origins, unknown functions, and batches invoked side by side with 500 when one fails.
// The host runs in a child process, as it does in the local stack, with a one-function app.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { root } from '../support/localStack.js';
import { publishedText } from '../support/publishedFixtures.js';

let child: ChildProcess;
let base: string;
let dir: string;
let eventsFile: string;

interface Invocation {
  id: string;
  concurrent: number;
  failed: boolean;
}

function invocations(): Invocation[] {
  const text = readFileSync(eventsFile, 'utf8');
  return text
    ? text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Invocation)
    : [];
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'eg-webhook-'));
  eventsFile = path.join(dir, 'events.jsonl');
  writeFileSync(eventsFile, '');
  const script = `
    const { startLocalHost } = await import(${JSON.stringify(path.join(root, 'dist/local/host/server.js'))});
    const host = await startLocalHost({
      entry: ${JSON.stringify(path.join(root, 'test/fixtures/hostApps/eventGridApp.mjs'))},
      port: 0,
      hostJsonPath: ${JSON.stringify(path.join(root, 'host.json'))},
      log: () => undefined,
    });
    console.log('LISTENING ' + host.port);
  `;
  child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', EVENTS_FILE: eventsFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`the host exited (${code}): ${out}`)));
  });
  base = `http://127.0.0.1:${port}/runtime/webhooks/EventGrid`;
});

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => writeFileSync(eventsFile, ''));

const reportFile = 'events/event-grid-schema/sms_delivery_report_received.camel.bb50bb08.json';

function post(body: string, headers: Record<string, string>, functionName = 'recorder', method = 'POST') {
  return fetch(`${base}?functionName=${encodeURIComponent(functionName)}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(method === 'POST' ? { body } : {}),
  });
}

function event(id: string, data: Record<string, unknown> = {}) {
  return { id, eventType: 'Test.Event', subject: 's', eventTime: '2026-01-01T00:00:00Z', dataVersion: '1', data };
}

describe('aeg-event-type', () => {
  it.each(['Notification', 'notification', 'NOTIFICATION'])('"%s" invokes the function and answers 202', async (type) => {
    const response = await post(`[${publishedText(reportFile)}]`, { 'aeg-event-type': type });
    expect(response.status).toBe(202);
    expect(invocations().map((i) => i.id)).toEqual(['Outgoing_202009180022138813a09b-0cbf-4304-9b03-1546683bb910']);
  });

  it('takes a single object as a batch of one', async () => {
    expect((await post(publishedText(reportFile), { 'aeg-event-type': 'Notification' })).status).toBe(202);
    expect(invocations()).toHaveLength(1);
  });

  it('answers Unsubscribe with 202, and SubscriptionDeletion, an unknown value or none with 400, invoking nothing', async () => {
    const body = `[${publishedText(reportFile)}]`;
    expect((await post(body, { 'aeg-event-type': 'Unsubscribe' })).status).toBe(202);
    expect((await post(body, { 'aeg-event-type': 'unsubscribe' })).status).toBe(202);
    expect((await post(body, { 'aeg-event-type': 'SubscriptionDeletion' })).status).toBe(400);
    expect((await post(body, { 'aeg-event-type': 'Other' })).status).toBe(400);
    expect((await post(body, {})).status).toBe(400);
    // A CloudEvent without the header is refused too: Event Grid always sends it.
    const cloudEvent = publishedText('events/cloud-events-schema/sms_delivery_report_received.pascal.04c2cb7b.json');
    expect((await post(cloudEvent, { 'content-type': 'application/cloudevents+json; charset=utf-8' })).status).toBe(400);
    expect(invocations()).toEqual([]);
  });
});

describe('subscription validation', () => {
  it.each(['SubscriptionValidation', 'subscriptionvalidation'])(
    'answers the published validation event (%s) with 200 and its code',
    async (type) => {
      const response = await post(publishedText('eventgrid-webhook/subscription_validation_event.53f11ed0.json'), {
        'aeg-event-type': type,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' });
      expect(invocations()).toEqual([]);
    },
  );

  it('answers the CloudEvents form, whose data is a JSON string, without invoking the function', async () => {
    const validation = {
      specversion: '1.0',
      type: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      source: '/subscriptions/x',
      id: '2d1781af-3a4c-4d7c-bd0c-e34b19da4e66',
      data: JSON.stringify({ validationCode: 'c0de', validationUrl: 'https://example.invalid/validate' }),
    };
    const response = await post(JSON.stringify(validation), {
      'aeg-event-type': 'SubscriptionValidation',
      'content-type': 'application/cloudevents+json; charset=utf-8',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ validationResponse: 'c0de' });
    expect(invocations()).toEqual([]);
  });
});

describe('the CloudEvents OPTIONS handshake', () => {
  it.each([
    'eventgrid.azure.net',
    'eventgrid.azure.us',
    'eventgrid.azure.eaglex.ic.gov',
    'eventgrid.azure.microsoft.scloud',
    'eventgrid.azure.cn',
  ])('echoes the known origin %s', async (origin) => {
    const response = await post('', { 'webhook-request-origin': origin }, 'recorder', 'OPTIONS');
    expect(response.status).toBe(200);
    expect(response.headers.get('webhook-allowed-origin')).toBe(origin);
    expect(response.headers.get('webhook-allowed-rate')).toBeNull();
  });

  it('answers the public cloud for an unknown origin or none', async () => {
    for (const headers of [{ 'webhook-request-origin': 'evil.example.com' }, {}] as Array<Record<string, string>>) {
      const response = await post('', headers, 'recorder', 'OPTIONS');
      expect(response.status).toBe(200);
      expect(response.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
    }
  });
});

describe('function lookup', () => {
  it.each([
    ['an unknown name', 'nope', 'POST'],
    ['another casing', 'Recorder', 'POST'],
    ['no name', '', 'POST'],
    ['an unknown name, OPTIONS', 'nope', 'OPTIONS'],
  ])("answers 404 with the host's text for %s", async (_what, name, method) => {
    const response = await post('[]', { 'aeg-event-type': 'Notification' }, name, method);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe(`cannot find function: '${name}'`);
  });
});

describe('a batch', () => {
  it('invokes its events side by side and answers 500 with the failure when one fails; the redelivery runs all three again', async () => {
    const batch = JSON.stringify([event('a'), event('b', { failOnce: true }), event('c')]);
    const first = await post(batch, { 'aeg-event-type': 'Notification' });
    expect(first.status).toBe(500);
    expect(await first.text()).toBe('event b failed');
    const firstRound = invocations();
    expect(firstRound.map((i) => i.id).sort()).toEqual(['a', 'b', 'c']);
    expect(Math.max(...firstRound.map((i) => i.concurrent))).toBe(3);

    // Event Grid delivers the whole batch again; this time every event succeeds.
    expect((await post(batch, { 'aeg-event-type': 'Notification' })).status).toBe(202);
    const all = invocations();
    expect(all).toHaveLength(6);
    expect(all.slice(3).every((i) => !i.failed)).toBe(true);
  });

  it('answers 500 to a body it cannot read, invoking nothing', async () => {
    expect((await post('not json', { 'aeg-event-type': 'Notification' })).status).toBe(500);
    expect((await post('42', { 'aeg-event-type': 'Notification' })).status).toBe(500);
    expect((await post('[{"data":{}}]', { 'aeg-event-type': 'SubscriptionValidation' })).status).toBe(500);
    expect(invocations()).toEqual([]);
  });
});
