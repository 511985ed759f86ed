// Event Grid triggers as the Functions host serves them: POST /runtime/webhooks/EventGrid?functionName=NAME
// with the aeg-event-type protocol — the subscription validation handshake, notifications in the
// Event Grid schema or CloudEvents 1.0 (one event or a batch), and the CloudEvents abuse-protection
// OPTIONS handshake. A failed invocation answers 500, so Event Grid delivers the event again.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegisteredFunction } from './functionsCore.js';
import { readBody } from './httpRoutes.js';
import { context, invoke, type Log } from './invocation.js';

export async function handleEventGrid(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
  eventGrid: ReadonlyMap<string, RegisteredFunction>,
  track: <T>(p: Promise<T>) => Promise<T>,
  log: Log,
): Promise<void> {
  if (method === 'OPTIONS') {
    // CloudEvents webhook abuse protection handshake.
    const origin = req.headers['webhook-request-origin'];
    res.writeHead(200, { 'webhook-allowed-origin': String(origin ?? '*'), 'webhook-allowed-rate': '*' }).end();
    return;
  }
  if (method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  const name = url.searchParams.get('functionName') ?? '';
  const fn = eventGrid.get(name.toLowerCase());
  if (!fn) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`No Event Grid function named '${name}'`);
    return;
  }
  const raw = (await readBody(req)).toString('utf8');
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('The body is not JSON');
    return;
  }
  const events = Array.isArray(payload) ? payload : [payload];
  const contentType = String(req.headers['content-type'] ?? '');
  const isCloudEvents = /cloudevents/i.test(contentType) || events.every((e) => typeof e === 'object' && e !== null && 'specversion' in e);
  const type = String(req.headers['aeg-event-type'] ?? '');
  if (!isCloudEvents && type === 'SubscriptionValidation') {
    const code = (events[0] as { data?: { validationCode?: string } } | undefined)?.data?.validationCode;
    if (!code) {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ validationResponse: code }));
    return;
  }
  if (!isCloudEvents && type !== 'Notification') {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`Unsupported aeg-event-type '${type}'`);
    return;
  }
  try {
    for (const event of events) {
      // Event Grid only ever sends objects; anything else still reaches the function, which decides.
      const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
      const ctx = context(fn, log, {
        triggerMetadata: { id: e.id, subject: e.subject, eventType: e.eventType ?? e.type, eventTime: e.eventTime ?? e.time, topic: e.topic ?? e.source },
      });
      await track(invoke(fn, log, [event], ctx));
    }
    res.writeHead(202).end();
  } catch {
    // A failed invocation answers 500, so Event Grid delivers the event again.
    res.writeHead(500).end();
  }
}
