// Event Grid triggers as the Functions host serves them at /runtime/webhooks/EventGrid?functionName=NAME,
// line for line after the host's Event Grid extension (Azure/azure-sdk-for-net
// sdk/eventgrid/Microsoft.Azure.WebJobs.Extensions.EventGrid/src: Config/EventGridExtensionConfigProvider.cs
// f85eb6b2 and TriggerBinding/HttpRequestProcessor.cs 515190d3; cited as [config] and [processor]):
// - the function is looked up first, by its exact name; none → 404 "cannot find function: '<name>'" [config];
// - OPTIONS (the CloudEvents abuse-protection handshake) → 200 with Webhook-Allowed-Origin: the
//   WebHook-Request-Origin when it is a known Event Grid cloud, else the public cloud's [processor];
// - aeg-event-type, compared case-insensitively [processor]:
//   SubscriptionValidation → 200 {"validationResponse": code}, the code from events[0].data of an
//   array (Event Grid schema) or from the JSON string in data of an object (CloudEvents form);
//   Notification → the body's events (an array, or one object) invoked in parallel, then 202, or
//   500 with the first failure's message when any invocation failed (Event Grid then delivers the
//   whole batch again) [config ProcessEventsAsync]; Unsubscribe → 202; anything else, a missing
//   header included → 400. The content type is not looked at: Event Grid sends the same headers
//   for both schemas, with application/cloudevents+json for CloudEvents (docs event-grid/cloud-event-schema.md).
// A body the host cannot read (not JSON, no validation code, neither array nor object) makes it
// throw, which the host answers with 500; so does this one.
// Not played: the 409 for a schema that does not match a .NET function's EventGridEvent/CloudEvent
// parameter type — a Node.js function's trigger binds to neither.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EVENT_GRID } from '../../shared/domain/acsFacts.js';
import type { RegisteredFunction } from './functionsCore.js';
import { readBody } from './httpRoutes.js';
import { context, invoke, type Log } from './invocation.js';

/** StringContent's default content type, which is what the host's text answers carry. */
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** [processor] GetAllowedOriginResponseHeader. */
export function allowedOrigin(requestOrigin: string | undefined): string {
  const known: readonly string[] = EVENT_GRID.knownRequestOrigins;
  return requestOrigin !== undefined && known.includes(requestOrigin) ? requestOrigin : EVENT_GRID.webhookRequestOrigin;
}

/** The validation code of a SubscriptionValidation body in either schema; throws as the host does when there is none. */
function validationCode(body: unknown): string {
  let data: unknown;
  if (Array.isArray(body)) data = (body[0] as { data?: unknown } | undefined)?.data;
  else if (typeof body === 'object' && body !== null) {
    // "The Data is double-encoded in the CloudEvent subscription event" [processor].
    const raw = (body as { data?: unknown }).data;
    data = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } else throw new Error(`The request content should be parseable into a JSON object or array, but was ${typeof body}.`);
  const code = (data as { validationCode?: unknown } | undefined)?.validationCode;
  if (code === undefined || code === null) throw new Error('the subscription validation event has no data.validationCode');
  return String(code);
}

export async function handleEventGrid(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
  eventGrid: ReadonlyMap<string, RegisteredFunction>,
  track: <T>(p: Promise<T>) => Promise<T>,
  log: Log,
): Promise<void> {
  const name = url.searchParams.get('functionName') ?? '';
  const fn = name ? eventGrid.get(name) : undefined;
  if (!fn) {
    log(`cannot find function: '${name}', available function names: [${[...eventGrid.keys()].join(', ')}]`);
    res.writeHead(404, TEXT).end(`cannot find function: '${name}'`);
    return;
  }
  if (method === 'OPTIONS') {
    res.writeHead(200, { 'webhook-allowed-origin': allowedOrigin(header(req, 'webhook-request-origin')) }).end();
    return;
  }
  const type = (header(req, 'aeg-event-type') ?? '').toLowerCase();
  if (type === 'unsubscribe') {
    res.writeHead(202).end();
    return;
  }
  if (type !== 'subscriptionvalidation' && type !== 'notification') {
    res.writeHead(400).end();
    return;
  }

  let body: unknown;
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'));
    if (type === 'subscriptionvalidation') {
      const code = validationCode(body);
      log(`perform handshake with eventGrid for function: ${fn.name}`);
      res.writeHead(200, TEXT).end(JSON.stringify({ validationResponse: code }));
      return;
    }
    if (typeof body !== 'object' || body === null) {
      throw new Error(`The request content should be parseable into a JSON object or array, but was ${typeof body}.`);
    }
  } catch (error) {
    res.writeHead(500, TEXT).end((error as Error).message);
    return;
  }

  const events: unknown[] = Array.isArray(body) ? body : [body];
  const results = await Promise.allSettled(
    events.map((event) => {
      const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
      const ctx = context(fn, log, {
        triggerMetadata: {
          id: e.id,
          subject: e.subject,
          eventType: e.eventType ?? e.type,
          eventTime: e.eventTime ?? e.time,
          topic: e.topic ?? e.source,
        },
      });
      return track(invoke(fn, log, [event], ctx));
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) res.writeHead(500, TEXT).end(String((failed.reason as Error)?.message ?? failed.reason));
  else res.writeHead(202).end();
}
