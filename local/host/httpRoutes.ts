// HTTP triggers as the Functions host serves them: routes under the route prefix ("{id}",
// "{*path}", "{id?}", "{id:guid}"), literal segments before parameters, 404/405, and the
// handler's HttpResponse or HttpResponseInit written back.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRequest as HttpRequestType, HttpResponseInit } from '@azure/functions';
import type { RegisteredFunction } from './functionsCore.js';
import { context, functionsLib, invocationTraceContext, invoke, type Log } from './invocation.js';

export interface Route {
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

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function writeResponse(res: ServerResponse, result: unknown): Promise<void> {
  if (result instanceof functionsLib().HttpResponse) {
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
  else if (init.body !== undefined && init.body !== null)
    body = Buffer.from(await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
  res.writeHead(init.status ?? 200, headers).end(body);
}

/** The routes of the HTTP-triggered functions, under the route prefix, literal segments first. */
export function routesOf(functions: readonly RegisteredFunction[], routePrefix: string): Route[] {
  return (
    functions
      .filter((fn) => fn.trigger.type === 'httpTrigger')
      .map((fn) => {
        const { pattern, names } = compileRoute(`${routePrefix ? `${routePrefix}/` : ''}${String(fn.trigger.route ?? fn.name)}`);
        return {
          fn,
          pattern,
          names,
          methods: ((fn.trigger.methods as string[] | undefined) ?? ['GET', 'POST']).map((m) => m.toUpperCase()),
        };
      })
      // Literal segments win over parameters, as in the host's route ordering.
      .sort((a, b) => b.pattern.source.replace(/\([^)]*\)/g, '').length - a.pattern.source.replace(/\([^)]*\)/g, '').length)
  );
}

/** Serves one request to the function whose route and method match; 404/405 otherwise. */
export async function handleHttpRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
  routes: readonly Route[],
  track: <T>(p: Promise<T>) => Promise<T>,
  log: Log,
): Promise<void> {
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
  try {
    route.names.forEach((name, i) => {
      if (m[i + 1] !== undefined) params[name] = decodeURIComponent(m[i + 1]!);
    });
  } catch {
    // A malformed escape (%ud800, %C0%AF): the Functions host refuses the request with 400 before
    // any function sees it.
    res.writeHead(400).end();
    return;
  }
  const body = await readBody(req);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const request: HttpRequestType = new (functionsLib().HttpRequest)({
    method,
    url: `http://${req.headers.host ?? '127.0.0.1'}${req.url}`,
    headers,
    query: Object.fromEntries(url.searchParams),
    params,
    ...(body.length > 0 ? { body: { bytes: body } } : {}),
  });
  const incoming = { traceparent: headers.traceparent, tracestate: headers.tracestate };
  await writeResponse(
    res,
    await track(invoke(route.fn, log, [request], context(route.fn, log, { traceContext: invocationTraceContext(incoming) }))),
  );
}
