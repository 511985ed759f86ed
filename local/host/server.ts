// The local function host: serves the app's registered functions the way the Azure Functions host
// does, so the same code runs here and in Azure. This file assembles the parts, one file each:
// httpRoutes (HTTP triggers), eventGridWebhook (Event Grid), storageQueueTrigger, the Service Bus
// trigger (local/serviceBus/trigger.ts), timerTrigger, hostJson (settings) and invocation
// (contexts and logging).
import { createServer } from 'node:http';
import { captureRegistrations, type RegisteredFunction } from './functionsCore.js';
import { handleEventGrid } from './eventGridWebhook.js';
import { queueSettingsOf, readHostJson, routePrefixOf } from './hostJson.js';
import { handleHttpRoute, routesOf } from './httpRoutes.js';
import { isDisabled, loadFunctionsLib } from './invocation.js';
import { serviceBusTriggerSettings, startServiceBusTrigger } from '../serviceBus/trigger.js';
import { startQueueTrigger } from './storageQueueTrigger.js';
import { startTimer } from './timerTrigger.js';
import { telemetryHandle } from '../../shared/adapters/telemetry/setup.js';

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

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.env) Object.assign(process.env, options.env);
  const hostJson = readHostJson(options.hostJsonPath);
  const routePrefix = routePrefixOf(hostJson);
  const queueSettings = queueSettingsOf(hostJson);

  const registered = await captureRegistrations(options.entry);
  await loadFunctionsLib();
  const functions = registered.filter((fn) => {
    if (isDisabled(fn.name)) log(`Function '${fn.name}' is disabled`);
    return !isDisabled(fn.name);
  });

  const routes = routesOf(functions, routePrefix);
  // By exact name, as the host's Event Grid extension keeps its listeners (eventGridWebhook.ts).
  const eventGrid = new Map(functions.filter((fn) => fn.trigger.type === 'eventGridTrigger').map((fn) => [fn.name, fn]));
  // Invocations under way: a clean close waits for them, as the host drains on shutdown.
  const inFlight = new Set<Promise<unknown>>();
  const track = async <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    try {
      return await p;
    } finally {
      inFlight.delete(p);
    }
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = (req.method ?? 'GET').toUpperCase();
      if (url.pathname === '/admin/host/status') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ state: 'Running', functions: functions.map((f) => f.name) }));
      } else if (url.pathname === '/admin/telemetry' && method === 'GET') {
        // Local only (the real host has no such route): what TELEMETRY_EXPORTER=memory captured in
        // this process — spans, metric points and log records as JSON lines (docs/operations.md).
        const memory = telemetryHandle()?.memory;
        if (!memory) res.writeHead(404, { 'content-type': 'text/plain' }).end('TELEMETRY_EXPORTER is not memory');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await memory()));
      } else if (/^\/runtime\/webhooks\/eventgrid\/?$/i.test(url.pathname)) {
        await handleEventGrid(req, res, url, method, eventGrid, track, log);
      } else {
        await handleHttpRoute(req, res, url, method, routes, track, log);
      }
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  });

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
    // Against whatever namespace its connection setting names: the local stand-in, or Azure.
    else if (fn.trigger.type === 'serviceBusTrigger')
      stops.push(startServiceBusTrigger(fn, serviceBusTriggerSettings(hostJson), log, inFlight));
  }

  const url = `http://127.0.0.1:${port}`;
  log(`Functions (${url}):`);
  for (const fn of functions) {
    if (fn.trigger.type === 'httpTrigger') {
      log(
        `  ${fn.name}: [${((fn.trigger.methods as string[]) ?? ['GET', 'POST']).join(',')}] ${url}/${routePrefix}/${String(fn.trigger.route ?? fn.name)}`,
      );
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
      await telemetryHandle()?.flush();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}
