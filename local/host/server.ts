// The local function host: serves the app's registered functions the way the Azure Functions host
// does — HTTP routes under the route prefix, Storage queue triggers with visibility timeout,
// dequeue count and poison queue, Event Grid at /runtime/webhooks/EventGrid?functionName=NAME
// with the aeg-event-type protocol, and NCRONTAB timers — so the same code runs here and in Azure.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import type { HttpRequest as HttpRequestType, HttpResponseInit, InvocationContext as InvocationContextType } from '@azure/functions';
import type { QueueClient } from '@azure/storage-queue';
import { captureRegistrations, type RegisteredFunction } from './functionsCore.js';
import { nextOccurrence, parseNcrontab } from './ncrontab.js';

export interface LocalHostOptions {
  entry: string;
  port?: number;
  hostJsonPath?: string;
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface LocalHost {
  url: string;
  port: number;
  functions: RegisteredFunction[];
  close(): Promise<void>;
}

interface HostJson {
  extensions?: {
    http?: { routePrefix?: string };
    queues?: {
      batchSize?: number;
      newBatchThreshold?: number;
      maxPollingInterval?: string | number;
      visibilityTimeout?: string | number;
      maxDequeueCount?: number;
      messageEncoding?: 'base64' | 'none';
    };
  };
}

/** "00:00:10" or milliseconds → milliseconds. */
export function timeSpanMs(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value);
  if (!m) return fallback;
  const [, d, h, min, s, frac] = m;
  return ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + (frac ? Number(`0.${frac}`) * 1000 : 0);
}

/** Resolves %NAME% app-setting expressions, as the host does in binding settings. */
export function resolveSettings(value: string): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new Error(`the binding expression %${name}% refers to a setting that is not set`);
    return v;
  });
}

function isDisabled(name: string): boolean {
  const v = process.env[`AzureWebJobs.${name}.Disabled`] ?? process.env[`AzureWebJobs__${name}__Disabled`];
  return v === 'true' || v === '1';
}

// @azure/functions is loaded only after the functions-core shim is installed (see captureRegistrations):
// loaded earlier, it would settle into its "test mode" and register nothing.
type FunctionsLib = typeof import('@azure/functions');
let lib: FunctionsLib;

function context(fn: RegisteredFunction, log: (line: string) => void, extra: Partial<NonNullable<ConstructorParameters<typeof InvocationContextType>[0]>> = {}) {
  return new lib.InvocationContext({
    invocationId: randomUUID(),
    functionName: fn.name,
    options: { trigger: fn.trigger, extraInputs: [], extraOutputs: [] },
    logHandler: (level, ...args) => log(`${fn.name} [${level}] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`),
    ...extra,
  });
}

async function invoke(fn: RegisteredFunction, log: (line: string) => void, args: unknown[], ctx: InvocationContextType): Promise<unknown> {
  const started = Date.now();
  try {
    const result = await fn.handler(...args, ctx);
    log(`Executed '${fn.name}' (Succeeded, ${Date.now() - started} ms)`);
    return result;
  } catch (error) {
    log(`Executed '${fn.name}' (Failed, ${Date.now() - started} ms): ${(error as Error)?.stack ?? String(error)}`);
    throw error;
  }
}

// ---------- HTTP ----------

interface Route {
  fn: RegisteredFunction;
  methods: string[];
  pattern: RegExp;
  names: string[];
}

/** Compiles an HTTP route template ("messages/{id}", "{*path}", "items/{id?}", "{id:guid}"). */
export function compileRoute(template: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const parts = template.replace(/^\/+|\/+$/g, '').split('/');
  let source = '';
  for (const part of parts) {
    const m = /^\{(\*)?([A-Za-z0-9_]+)(?::[^}?]+)?(\?)?\}$/.exec(part);
    if (m) {
      names.push(m[2]!);
      if (m[1]) source += '(?:/(.*))?';
      else if (m[3]) source += '(?:/([^/]+))?';
      else source += '/([^/]+)';
    } else {
      source += `/${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
    }
  }
  return { pattern: new RegExp(`^${source}/?$`, 'i'), names };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function writeResponse(res: ServerResponse, result: unknown): Promise<void> {
  if (result instanceof lib.HttpResponse) {
    const body = Buffer.from(await result.arrayBuffer());
    const headers: Record<string, string> = {};
    result.headers.forEach((v, k) => (headers[k] = v));
    res.writeHead(result.status, headers).end(body);
    return;
  }
  const init = (result ?? {}) as HttpResponseInit;
  const headers: Record<string, string> = {};
  if (init.headers) new Headers(init.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => (headers[k] = v));
  let body: Buffer | string | undefined;
  if (init.jsonBody !== undefined) {
    body = JSON.stringify(init.jsonBody);
    headers['content-type'] ??= 'application/json';
  } else if (typeof init.body === 'string') body = init.body;
  else if (init.body instanceof Uint8Array || init.body instanceof ArrayBuffer) body = Buffer.from(init.body as Uint8Array);
  else if (init.body !== undefined && init.body !== null) body = Buffer.from(await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
  res.writeHead(init.status ?? 200, headers).end(body);
}

// ---------- Storage queues ----------

interface QueueSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxPollingIntervalMs: number;
  visibilityTimeoutMs: number;
  maxDequeueCount: number;
  base64: boolean;
  /** How long a received message stays invisible while it runs; renewed at half-time, as the host does. */
  leaseMs: number;
}

function startQueueTrigger(fn: RegisteredFunction, settings: QueueSettings, log: (line: string) => void, tracker: Set<Promise<unknown>>) {
  let stopped = false;
  let wake: (() => void) | undefined;
  const queueName = resolveSettings(String(fn.trigger.queueName));
  const connectionName = String(fn.trigger.connection ?? 'AzureWebJobsStorage');
  const connectionString = process.env[connectionName];
  if (!connectionString) throw new Error(`queue trigger ${fn.name}: setting ${connectionName} is not set`);

  const loop = (async () => {
    const { QueueServiceClient } = await import('@azure/storage-queue');
    const service = QueueServiceClient.fromConnectionString(connectionString);
    const queue: QueueClient = service.getQueueClient(queueName);
    const poison: QueueClient = service.getQueueClient(`${queueName}-poison`);
    let created = false;
    let delay = 100;
    const inFlight = new Set<Promise<void>>();

    const handle = async (message: { messageId: string; popReceipt: string; messageText: string; dequeueCount: number; insertedOn?: Date; expiresOn?: Date; nextVisibleOn?: Date }) => {
      const text = settings.base64 ? Buffer.from(message.messageText, 'base64').toString('utf8') : message.messageText;
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the handler gets the string, as in the real host
      }
      const ctx = context(fn, log, {
        triggerMetadata: {
          id: message.messageId,
          dequeueCount: message.dequeueCount,
          insertionTime: message.insertedOn,
          expirationTime: message.expiresOn,
          nextVisibleTime: message.nextVisibleOn,
          popReceipt: message.popReceipt,
          queueTrigger: text,
        },
      });
      // The lease is renewed while the function runs; each renewal changes the pop receipt.
      let popReceipt = message.popReceipt;
      const renew = setInterval(() => {
        queue
          .updateMessage(message.messageId, popReceipt, undefined, Math.round(settings.leaseMs / 1000))
          .then((r) => {
            if (r.popReceipt) popReceipt = r.popReceipt;
          })
          .catch(() => undefined);
      }, settings.leaseMs / 2);
      try {
        await invoke(fn, log, [body], ctx).finally(() => clearInterval(renew));
        await queue.deleteMessage(message.messageId, popReceipt);
      } catch {
        if (message.dequeueCount >= settings.maxDequeueCount) {
          await poison.createIfNotExists();
          await poison.sendMessage(message.messageText, { messageTimeToLive: -1 });
          await queue.deleteMessage(message.messageId, popReceipt).catch(() => undefined);
          log(`Message ${message.messageId} has reached MaxDequeueCount of ${settings.maxDequeueCount}. Moving message to queue '${queueName}-poison'.`);
        } else {
          await queue
            .updateMessage(message.messageId, popReceipt, undefined, Math.round(settings.visibilityTimeoutMs / 1000))
            .catch(() => undefined);
        }
      }
    };

    while (!stopped) {
      try {
        if (!created) {
          await queue.createIfNotExists();
          created = true;
        }
        if (inFlight.size > settings.newBatchThreshold) {
          await Promise.race(inFlight);
          continue;
        }
        // Kept invisible while it runs (10 minutes by default, as the host does; renewed meanwhile).
        // If storage is down when the function fails, the message reappears once the lease ends.
        const received = await queue.receiveMessages({ numberOfMessages: settings.batchSize, visibilityTimeout: Math.round(settings.leaseMs / 1000) });
        if (received.receivedMessageItems.length === 0) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, delay);
          });
          delay = Math.min(settings.maxPollingIntervalMs, delay * 2);
          continue;
        }
        delay = 100;
        for (const m of received.receivedMessageItems) {
          const p: Promise<void> = handle(m).catch((e) => log(`${fn.name}: ${(e as Error).message}`));
          inFlight.add(p);
          tracker.add(p);
          void p.finally(() => {
            inFlight.delete(p);
            tracker.delete(p);
          });
        }
      } catch (error) {
        if (!stopped) log(`queue trigger ${fn.name}: ${(error as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    await Promise.allSettled([...inFlight]);
  })();

  return async () => {
    stopped = true;
    wake?.();
    await loop;
  };
}

// ---------- Timers ----------

function startTimer(fn: RegisteredFunction, log: (line: string) => void) {
  const schedule = parseNcrontab(resolveSettings(String(fn.trigger.schedule)));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let last = new Date();
  const arm = () => {
    if (stopped) return;
    const next = nextOccurrence(schedule, new Date());
    timer = setTimeout(async () => {
      const now = new Date();
      const ctx = context(fn, log);
      await invoke(fn, log, [{ isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: last.toISOString(), next: next.toISOString(), lastUpdated: now.toISOString() } }], ctx).catch(() => undefined);
      last = now;
      arm();
    }, Math.max(0, next.getTime() - Date.now()));
  };
  if (fn.trigger.runOnStartup) {
    void invoke(fn, log, [{ isPastDue: false, schedule: { adjustForDST: true } }], context(fn, log)).catch(() => undefined);
  }
  arm();
  return async () => {
    stopped = true;
    clearTimeout(timer);
  };
}

// ---------- The host ----------

/** LOCAL_QUEUE_LEASE_SECONDS: the local host's message lease (default 600, the Functions host's). */
function leaseSeconds(): number {
  const raw = process.env.LOCAL_QUEUE_LEASE_SECONDS;
  if (raw === undefined || raw === '') return 600;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2 || n > 7 * 24 * 3600) throw new Error(`LOCAL_QUEUE_LEASE_SECONDS must be a whole number of seconds from 2 to 604800, got "${raw}"`);
  return n;
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.env) Object.assign(process.env, options.env);
  const hostJson: HostJson = options.hostJsonPath && existsSync(options.hostJsonPath) ? (JSON.parse(readFileSync(options.hostJsonPath, 'utf8')) as HostJson) : {};
  const routePrefix = (hostJson.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
  const q = hostJson.extensions?.queues ?? {};
  const queueSettings: QueueSettings = {
    batchSize: q.batchSize ?? 16,
    newBatchThreshold: q.newBatchThreshold ?? Math.floor((q.batchSize ?? 16) / 2),
    maxPollingIntervalMs: timeSpanMs(q.maxPollingInterval, 60_000),
    visibilityTimeoutMs: timeSpanMs(q.visibilityTimeout, 0),
    maxDequeueCount: q.maxDequeueCount ?? 5,
    base64: (q.messageEncoding ?? 'base64') === 'base64',
    leaseMs: leaseSeconds() * 1000,
  };

  const registered = await captureRegistrations(options.entry);
  // CommonJS: its classes are reachable through the default export only.
  lib = ((await import('@azure/functions')) as unknown as { default: FunctionsLib }).default;
  const functions = registered.filter((fn) => {
    if (isDisabled(fn.name)) log(`Function '${fn.name}' is disabled`);
    return !isDisabled(fn.name);
  });

  const routes: Route[] = functions
    .filter((fn) => fn.trigger.type === 'httpTrigger')
    .map((fn) => {
      const { pattern, names } = compileRoute(`${routePrefix ? `${routePrefix}/` : ''}${String(fn.trigger.route ?? fn.name)}`);
      return { fn, pattern, names, methods: ((fn.trigger.methods as string[] | undefined) ?? ['GET', 'POST']).map((m) => m.toUpperCase()) };
    })
    // Literal segments win over parameters, as in the host's route ordering.
    .sort((a, b) => b.pattern.source.replace(/\([^)]*\)/g, '').length - a.pattern.source.replace(/\([^)]*\)/g, '').length);
  const eventGrid = new Map(functions.filter((fn) => fn.trigger.type === 'eventGridTrigger').map((fn) => [fn.name.toLowerCase(), fn]));
  const inFlight = new Set<Promise<unknown>>();

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = (req.method ?? 'GET').toUpperCase();
      if (url.pathname === '/admin/host/status') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ state: 'Running', functions: functions.map((f) => f.name) }));
        return;
      }
      if (/^\/runtime\/webhooks\/eventgrid\/?$/i.test(url.pathname)) {
        await handleEventGrid(req, res, url, method);
        return;
      }
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const matches = routes.filter((r) => r.pattern.test(path));
      if (matches.length === 0) {
        res.writeHead(404).end();
        return;
      }
      const route = matches.find((r) => r.methods.includes(method));
      if (!route) {
        res.writeHead(405, { allow: [...new Set(matches.flatMap((r) => r.methods))].join(', ') }).end();
        return;
      }
      const m = route.pattern.exec(path)!;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        if (m[i + 1] !== undefined) params[name] = decodeURIComponent(m[i + 1]!);
      });
      const body = await readBody(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const request: HttpRequestType = new lib.HttpRequest({
        method,
        url: `http://${req.headers.host ?? '127.0.0.1'}${req.url}`,
        headers,
        query: Object.fromEntries(url.searchParams),
        params,
        ...(body.length > 0 ? { body: { bytes: body } } : {}),
      });
      const p = invoke(route.fn, log, [request], context(route.fn, log));
      inFlight.add(p);
      try {
        await writeResponse(res, await p);
      } finally {
        inFlight.delete(p);
      }
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  });

  async function handleEventGrid(req: IncomingMessage, res: ServerResponse, url: URL, method: string) {
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
        const p = invoke(fn, log, [event], ctx);
        inFlight.add(p);
        try {
          await p;
        } finally {
          inFlight.delete(p);
        }
      }
      res.writeHead(202).end();
    } catch {
      // A failed invocation answers 500, so Event Grid delivers the event again.
      res.writeHead(500).end();
    }
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 7071, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });

  const stops: Array<() => Promise<void>> = [];
  for (const fn of functions) {
    if (fn.trigger.type === 'queueTrigger') stops.push(startQueueTrigger(fn, queueSettings, log, inFlight));
    else if (fn.trigger.type === 'timerTrigger') stops.push(startTimer(fn, log));
    else if (fn.trigger.type === 'serviceBusTrigger') {
      log(`Function '${fn.name}' uses a Service Bus trigger, which cannot run locally (no emulator); set OUTBOUND_QUEUE_TRANSPORT=storage.`);
    }
  }

  const url = `http://127.0.0.1:${port}`;
  log(`Functions (${url}):`);
  for (const fn of functions) {
    if (fn.trigger.type === 'httpTrigger') {
      log(`  ${fn.name}: [${((fn.trigger.methods as string[]) ?? ['GET', 'POST']).join(',')}] ${url}/${routePrefix}/${String(fn.trigger.route ?? fn.name)}`);
    } else if (fn.trigger.type === 'eventGridTrigger') {
      log(`  ${fn.name}: eventGridTrigger ${url}/runtime/webhooks/EventGrid?functionName=${fn.name}`);
    } else {
      log(`  ${fn.name}: ${fn.trigger.type}`);
    }
  }

  return {
    url,
    port,
    functions,
    async close() {
      await Promise.all(stops.map((s) => s()));
      await Promise.allSettled([...inFlight]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}
