// The Event Grid destination against a local HTTP server standing in for a topic that takes a
// key: what goes over the wire (CloudEvents batch, the aeg-sas-key header), and refusals
// turning into throws the dispatcher retries. The real EventGridPublisherClient is used.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EventGridDeliveryError,
  EventGridDestination,
  toCloudEventInput,
  type CloudEventPublisher,
} from '../../shared/adapters/eventgrid/eventGridDestination.js';
import { eventDestinations } from '../../shared/adapters/eventDestinations.js';
import { loadConfig } from '../../shared/config.js';
import { messageEvent, type PipelineEvent } from '../../shared/domain/events.js';
import type { MessageRecord } from '../../shared/domain/message.js';

const KEY = 'dG9waWMta2V5LWZvci10ZXN0cy1vbmx5';

function event(i: number): PipelineEvent {
  const record: MessageRecord = {
    messageId: `01m88zd555f36ymv0y9ngj-00${i}`,
    batchId: '01m88zd555f36ymv0y9ngj',
    from: '+18005550100',
    to: `+1425555012${i}`,
    body: 'hi',
    encoding: 'GSM-7',
    segments: 1,
    tag: 'reminders',
    metadata: { order: String(i) },
    deliveryReport: true,
    status: 'delivered',
    history: [
      { status: 'queued', at: '2026-11-25T10:00:00.000Z' },
      { status: 'sending', at: '2026-11-25T10:00:01.000Z' },
      { status: 'sent', at: '2026-11-25T10:00:02.000Z' },
      { status: 'delivered', at: '2026-11-25T10:00:05.123Z', eventTime: '2026-11-25T10:00:04Z' },
    ],
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T10:00:05.123Z',
    acsMessageId: `acs-${i}`,
    attempts: 1,
  };
  return messageEvent('/sms-pipeline/test', record);
}

interface Published {
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

describe('EventGridDestination against a local topic with a key', () => {
  let server: Server;
  let endpoint: string;
  let published: Published[];
  let answer: { status: number; headers?: Record<string, string> };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.headers['aeg-sas-key'] !== KEY) {
          res
            .writeHead(401, { 'content-type': 'application/json' })
            .end(
              JSON.stringify({ error: { code: 'Unauthorized', message: 'The request authorization key is not authorized.' } }),
            );
          return;
        }
        published.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(answer.status, answer.headers ?? {}).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/events`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    published = [];
    answer = { status: 200 };
  });

  it('publishes the events as one CloudEvents 1.0 batch, authenticated with the key', async () => {
    const events = [event(1), event(2)];
    await new EventGridDestination({ endpoint, key: KEY }).deliver(events);
    expect(published).toHaveLength(1);
    const [request] = published;
    expect(request!.url).toMatch(/^\/api\/events\?api-version=/);
    expect(request!.headers['content-type']).toMatch(/^application\/cloudevents-batch\+json/);
    // The wire form is exactly the pipeline's events (same ids, so subscribers can dedupe).
    expect(request!.body).toEqual(events.map((e) => ({ ...e, time: new Date(e.time).toISOString() })));
  });

  it('is built from EVENTGRID_TOPIC_ENDPOINT and EVENTGRID_TOPIC_KEY', async () => {
    const cfg = loadConfig({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      OUTBOUND_QUEUE_TRANSPORT: 'storage',
      ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
      SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
      EVENTGRID_TOPIC_ENDPOINT: endpoint,
      EVENTGRID_TOPIC_KEY: KEY,
    });
    const destinations = eventDestinations(cfg);
    expect(destinations.map((d) => d.name)).toEqual(['eventgrid']);
    await destinations[0]!.deliver([event(3)]);
    expect(published.map((p) => (p.body as PipelineEvent[]).map((e) => e.id))).toEqual([[event(3).id]]);
  });

  it('throws when the topic refuses the key, so the dispatcher retries', async () => {
    const error = await new EventGridDestination({ endpoint, key: 'd3Jvbmc=' }).deliver([event(1)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventGridDeliveryError);
    expect(error).toMatchObject({ status: 401 });
    expect((error as Error).message).not.toContain('d3Jvbmc=');
  });

  it('throws at once on a refusal, leaving retries (and a Retry-After) to the dispatcher', async () => {
    answer = { status: 400 };
    await expect(new EventGridDestination({ endpoint, key: KEY }).deliver([event(1)])).rejects.toMatchObject({ status: 400 });
    expect(published).toHaveLength(1);
    answer = { status: 429, headers: { 'retry-after': '20' } };
    await expect(new EventGridDestination({ endpoint, key: KEY }).deliver([event(1)])).rejects.toMatchObject({
      status: 429,
      retryAfterMs: 20_000,
    });
    answer = { status: 503 };
    await expect(new EventGridDestination({ endpoint, key: KEY }).deliver([event(1)])).rejects.toMatchObject({ status: 503 });
    expect(published).toHaveLength(3);
  });
});

describe('EventGridDestination with a fake client', () => {
  it('creates the client once, on the first delivery, and maps every attribute', async () => {
    const sent: unknown[][] = [];
    let created = 0;
    const fake: CloudEventPublisher = { send: async (events) => void sent.push(events) };
    const destination = new EventGridDestination(
      { endpoint: 'https://t.westus2-1.eventgrid.azure.net/api/events', clientId: 'x' },
      async () => {
        created++;
        return fake;
      },
    );
    expect(created).toBe(0);
    await destination.deliver([event(1)]);
    await destination.deliver([event(2)]);
    expect(created).toBe(1);
    expect(sent[0]).toEqual([
      {
        type: 'sms.message.delivered',
        source: '/sms-pipeline/test',
        id: '01m88zd555f36ymv0y9ngj-001.delivered',
        subject: 'messages/01m88zd555f36ymv0y9ngj-001',
        time: new Date('2026-11-25T10:00:05.123Z'),
        datacontenttype: 'application/json',
        data: event(1).data,
      },
    ]);
    expect(toCloudEventInput({ ...event(1), time: 'not a time' })).not.toHaveProperty('time');
  });

  it('tries to create the client again after a failure to create it', async () => {
    let attempts = 0;
    const destination = new EventGridDestination({ endpoint: 'https://t/api/events' }, async () => {
      if (++attempts === 1) throw new Error('no credential available');
      return { send: async () => undefined };
    });
    await expect(destination.deliver([event(1)])).rejects.toThrow(/no credential/);
    await expect(destination.deliver([event(1)])).resolves.toBeUndefined();
  });
});
