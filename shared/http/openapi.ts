// The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas that validate the
// requests, so the document cannot drift from the code. A route is described once, in
// API_ROUTES; a new route (opt-outs, analytics, conversations …) is one more entry there.
//
// OpenAPI 3.1 schemas are JSON Schema draft 2020-12, which is zod's default target. Request
// schemas are converted as their input (defaults optional, coerced query values as numbers),
// response schemas as their output.
import { z } from 'zod';
import {
  batchQuery,
  batchResponse,
  healthResponse,
  idempotencyKeyHeader,
  previewResponse,
  problemDetails,
} from './apiSchemas.js';
import {
  consentChangeResponse,
  consentHistoryResponse,
  conversationQuery,
  conversationResponse,
  erasureResponse,
  optOutDeleteQuery,
  optOutListQuery,
  optOutListResponse,
  optOutPutBody,
  optOutStatusResponse,
  pageQuery,
} from './inboundSchemas.js';
import { analyticsQuery, analyticsResponse } from './analyticsSchemas.js';
import { PROBLEM_TYPES } from './problem.js';
import { MAX_BODY_BYTES, messageView, submitMessagesBody, submitMessagesResponse } from './schemas.js';

type JsonObject = Record<string, unknown>;

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteResponse {
  description: string;
  /** The JSON body; a component when named in COMPONENTS. */
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
  headers?: Record<string, { description: string; schema: JsonObject }>;
  /** The same response in other media types, chosen by the Accept header (e.g. text/csv). */
  alternatives?: Record<string, { schema: JsonObject }>;
}

export interface ApiRoute {
  method: HttpMethod;
  /** As clients call it, with the /api prefix: "/api/messages/{id}". */
  path: string;
  /** The function's name: the operationId, and what appears in logs. */
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** "function": needs a function key (x-functions-key header or ?code=). */
  auth: 'function' | 'anonymous';
  pathParams?: Record<string, string>;
  /** Each property becomes a query parameter. */
  query?: z.ZodObject;
  headers?: Array<{ name: string; description?: string; required?: boolean; schema: z.ZodType }>;
  requestBody?: { schema: z.ZodType; description?: string };
  responses: Record<string, RouteResponse>;
  /** Statuses answered with problem+json, besides the ones every route can give. */
  problems?: number[];
}

/** Schemas that appear under components.schemas, by name. */
const COMPONENTS = new Map<z.ZodType, string>([
  [submitMessagesBody, 'SubmitMessagesRequest'],
  [submitMessagesResponse, 'SubmitMessagesResponse'],
  [previewResponse, 'PreviewResponse'],
  [messageView, 'Message'],
  [batchResponse, 'Batch'],
  [healthResponse, 'Health'],
  [optOutStatusResponse, 'OptOutStatus'],
  [consentChangeResponse, 'ConsentChange'],
  [optOutListResponse, 'OptOutList'],
  [consentHistoryResponse, 'ConsentHistory'],
  [conversationResponse, 'Conversation'],
  [erasureResponse, 'Erasure'],
  [analyticsResponse, 'AnalyticsReport'],
  [problemDetails, 'ProblemDetails'],
]);

const RETRY_AFTER = { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 0 } };
const IDEMPOTENT_REPLAYED = {
  description: 'Present ("true") when this is the stored response of an earlier request with the same Idempotency-Key.',
  schema: { type: 'string', const: 'true' },
};

/** Every route of the HTTP API. */
export const API_ROUTES: ApiRoute[] = [
  {
    method: 'post',
    path: '/api/messages',
    operationId: 'submitMessages',
    summary: 'Send a message to one or more recipients',
    description:
      'Validates the request, drops recipients who opted out (recorded as "suppressed"), records one message per recipient and queues ' +
      'them for sending. The answer comes before the hand-over to ACS; follow the batch or each message for its status. ' +
      'With an Idempotency-Key, a repeat of the same request within 24 hours returns the original response and sends nothing.',
    tags: ['messages'],
    auth: 'function',
    headers: [{ name: 'Idempotency-Key', required: false, schema: idempotencyKeyHeader }],
    requestBody: { schema: submitMessagesBody, description: `JSON, at most ${MAX_BODY_BYTES} bytes.` },
    responses: {
      '202': {
        description: 'Accepted: the messages are recorded and queued.',
        schema: submitMessagesResponse,
        headers: {
          Location: { description: 'The batch: GET it for the status of every message.', schema: { type: 'string' } },
          'Idempotent-Replayed': IDEMPOTENT_REPLAYED,
        },
      },
    },
    problems: [409, 413, 415, 422],
  },
  {
    method: 'post',
    path: '/api/messages/preview',
    operationId: 'previewMessages',
    summary: 'Dry-run a send: encoding, segments, senders and opt-outs, without sending',
    description: 'Takes the same body as POST /api/messages and answers what it would do. Nothing is sent, recorded or reserved.',
    tags: ['messages'],
    auth: 'function',
    requestBody: { schema: submitMessagesBody },
    responses: { '200': { description: 'What the send would do.', schema: previewResponse } },
    problems: [413, 415],
  },
  {
    method: 'get',
    path: '/api/messages/{id}',
    operationId: 'getMessage',
    summary: 'A message with its status history',
    tags: ['messages'],
    auth: 'function',
    pathParams: { id: 'The message id, as POST /api/messages returned it.' },
    responses: { '200': { description: 'The message.', schema: messageView } },
    problems: [404],
  },
  {
    method: 'delete',
    path: '/api/messages/{id}',
    operationId: 'cancelMessage',
    summary: 'Cancel a message that has not been handed to ACS yet',
    description:
      'A message in status "queued" or "scheduled" becomes "canceled" and is never sent. Once it has been handed to ACS (or ended ' +
      'otherwise) it is too late: 409 names its status. Canceling a canceled message answers 200 again.',
    tags: ['messages'],
    auth: 'function',
    pathParams: { id: 'The message id.' },
    responses: { '200': { description: 'The message, now canceled.', schema: messageView } },
    problems: [404, 409],
  },
  {
    method: 'get',
    path: '/api/batches/{id}',
    operationId: 'getBatch',
    summary: 'A batch: counts per status and its messages, paged',
    description: 'The counts always cover the whole batch; the messages come a page at a time, in message id order.',
    tags: ['messages'],
    auth: 'function',
    pathParams: { id: 'The batch id, as POST /api/messages returned it.' },
    query: batchQuery,
    responses: { '200': { description: 'The batch.', schema: batchResponse } },
    problems: [404],
  },
  {
    method: 'get',
    path: '/api/opt-outs/{phone}',
    operationId: 'getOptOut',
    summary: 'Whether a person is opted out, of each number and overall',
    description: 'One point read per number of the pool and one for the pool-wide opt-out. `via` says whether an opt-out is the person\'s own for that number or the pool-wide one.',
    tags: ['opt-outs'],
    auth: 'function',
    pathParams: { phone: 'The person\'s number, E.164 ("+" optional; "%2B" works too).' },
    responses: { '200': { description: 'The person\'s consent.', schema: optOutStatusResponse } },
    problems: [400],
  },
  {
    method: 'put',
    path: '/api/opt-outs/{phone}',
    operationId: 'addOptOut',
    summary: 'Opt a person out of one number or of the whole pool',
    description:
      'Recorded with source "api" and the reason in the consent log, published as sms.optout.added, and mirrored to ACS\'s opt-out list ' +
      'when ACS_OPT_OUT_MIRROR is on. Without `from`, the opt-out covers every number ("*"). Already opted out: nothing changes (`changes` is empty).',
    tags: ['opt-outs'],
    auth: 'function',
    pathParams: { phone: 'The person\'s number, E.164.' },
    requestBody: { schema: optOutPutBody },
    responses: { '200': { description: 'The person\'s consent after the change, and the change.', schema: consentChangeResponse } },
    problems: [413, 415],
  },
  {
    method: 'delete',
    path: '/api/opt-outs/{phone}',
    operationId: 'removeOptOut',
    summary: 'Lift a person\'s opt-out',
    description:
      'Lifts the opt-out of `from` ("*" for the pool-wide one) or, without `from`, every opt-out of the person. Each lifted opt-out is a ' +
      'consent log entry (source "api") and an sms.optout.removed event. Nothing to lift: nothing changes.',
    tags: ['opt-outs'],
    auth: 'function',
    pathParams: { phone: 'The person\'s number, E.164.' },
    query: optOutDeleteQuery,
    responses: { '200': { description: 'The person\'s consent after the change, and the changes.', schema: consentChangeResponse } },
  },
  {
    method: 'get',
    path: '/api/opt-outs',
    operationId: 'listOptOuts',
    summary: 'List or export opt-outs in force',
    description:
      'In (sender, recipient) order, a page at a time. With `Accept: text/csv` the page is CSV (columns sender, recipient, source, keyword, ' +
      'reason, inboundMessageId, at) and the next page\'s token is in the `X-Continuation-Token` header.',
    tags: ['opt-outs'],
    auth: 'function',
    query: optOutListQuery,
    responses: {
      '200': {
        description: 'A page of opt-outs.',
        schema: optOutListResponse,
        headers: { 'X-Continuation-Token': { description: 'CSV only: the token of the next page; absent on the last.', schema: { type: 'string' } } },
        alternatives: { 'text/csv': { schema: { type: 'string', description: 'RFC 4180 CSV with a header row.' } } },
      },
    },
  },
  {
    method: 'get',
    path: '/api/analytics',
    operationId: 'getAnalytics',
    summary: 'Counts, rates, delivery latency and estimated cost, per day, hour, tag or sender',
    description:
      'Figures of every message, reply and opt-out in a UTC range, totalled and grouped. Each event is counted exactly once, in the ' +
      'hour of its own time. JSON by default; CSV (one row per group) with `Accept: text/csv` or `format=csv`. See docs/analytics.md.',
    tags: ['analytics'],
    auth: 'function',
    query: analyticsQuery,
    responses: {
      '200': {
        description: 'The figures.',
        schema: analyticsResponse,
        alternatives: { 'text/csv': { schema: { type: 'string', description: 'The groups as RFC 4180 CSV with a header row.' } } },
      },
    },
  },
  {
    method: 'get',
    path: '/api/opt-outs/{phone}/history',
    operationId: 'getConsentHistory',
    summary: 'The consent log of a number',
    description: 'Every opt-out and opt-in of the person — by keyword, API or carrier — oldest first. Kept for ever, even through erasure.',
    tags: ['opt-outs'],
    auth: 'function',
    pathParams: { phone: 'The person\'s number, E.164.' },
    query: pageQuery,
    responses: { '200': { description: 'A page of the consent log.', schema: consentHistoryResponse } },
  },
  {
    method: 'get',
    path: '/api/conversations/{phone}',
    operationId: 'getConversation',
    summary: 'The thread between one of our numbers and a person, newest first',
    description:
      'Every text sent (from its hand-over to ACS) and received, with each inbound text linked to the last message it answers. ' +
      'Reply with POST /api/messages from the same number.',
    tags: ['conversations'],
    auth: 'function',
    pathParams: { phone: 'The person\'s number, E.164.' },
    query: conversationQuery,
    responses: { '200': { description: 'A page of the thread.', schema: conversationResponse } },
  },
  {
    method: 'delete',
    path: '/api/subjects/{phone}',
    operationId: 'eraseSubject',
    summary: 'Erase a person\'s texts and conversations',
    description:
      'Erases the text and metadata of every message to the person, deletes their conversations and cancels messages not yet handed over. ' +
      'Keeps the consent log and the opt-outs in force (the law requires them) and says what it kept and why. Repeating it is harmless.',
    tags: ['privacy'],
    auth: 'function',
    pathParams: { phone: 'The person\'s number, E.164.' },
    responses: { '200': { description: 'What was erased and what was kept.', schema: erasureResponse } },
    problems: [400],
  },
  {
    method: 'get',
    path: '/api/dashboard',
    operationId: 'dashboard',
    summary: 'The analytics dashboard: one HTML page with charts',
    description:
      'Open it in a browser with the function key as ?code=; the page calls GET /api/analytics with the same key. Self-contained: ' +
      'the chart library is bundled into the page, nothing is loaded from elsewhere.',
    tags: ['analytics'],
    auth: 'function',
    responses: { '200': { description: 'The page.', contentType: 'text/html', schema: z.string() } },
  },
  {
    method: 'get',
    path: '/api/health',
    operationId: 'health',
    summary: 'Whether storage, the outbound queue and ACS are reachable',
    tags: ['operations'],
    auth: 'anonymous',
    responses: {
      '200': { description: 'Every dependency answered.', schema: healthResponse },
      '503': {
        description: 'A dependency did not answer; see checks.',
        schema: healthResponse,
        headers: { 'Retry-After': RETRY_AFTER },
      },
    },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApi',
    summary: 'This OpenAPI document',
    tags: ['operations'],
    auth: 'anonymous',
    responses: { '200': { description: 'The OpenAPI 3.1 document of the API.', schema: z.looseObject({ openapi: z.string() }) } },
  },
];

/** Problems any route can answer with: bad input where there is input, outages, bugs. */
function problemStatuses(route: ApiRoute): number[] {
  const statuses = new Set(route.problems ?? []);
  if (route.requestBody || route.query || route.headers?.length) statuses.add(400);
  if (route.operationId !== 'health' && route.operationId !== 'openApi') statuses.add(503);
  statuses.add(500);
  return [...statuses].filter((s) => !route.responses[String(s)]).sort((a, b) => a - b);
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid: `errors` names every wrong field.',
  404: 'Not found.',
  409: 'Conflicts with the current state (e.g. a request with this Idempotency-Key is still running, or the message can no longer be canceled).',
  413: `The body is larger than ${MAX_BODY_BYTES} bytes.`,
  415: 'The body is not application/json.',
  422: 'The Idempotency-Key was used with a different request body.',
  500: 'Something went wrong on our side; nothing is half-done.',
  503: 'A dependency (storage, queue) is unavailable; nothing was changed. Retry after Retry-After seconds.',
};

export interface OpenApiOptions {
  /** Where the API is served, e.g. "https://func-sms.azurewebsites.net"; default the document's own origin ("/"). */
  serverUrl?: string;
  version?: string;
}

/** Builds the OpenAPI 3.1 document of `routes`. */
export function buildOpenApiDocument(routes: readonly ApiRoute[] = API_ROUTES, options: OpenApiOptions = {}): JsonObject {
  const components = new ComponentRegistry();
  const paths: Record<string, Record<string, JsonObject>> = {};

  for (const route of routes) {
    const operation: JsonObject = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      security: route.auth === 'function' ? [{ functionKeyHeader: [] }, { functionKeyQuery: [] }] : [],
    };

    const parameters: JsonObject[] = [];
    for (const [name, description] of Object.entries(route.pathParams ?? {})) {
      parameters.push({ name, in: 'path', required: true, description, schema: { type: 'string', minLength: 1 } });
    }
    if (route.query) {
      const query = components.inline(route.query, 'input');
      const properties = (query.properties ?? {}) as Record<string, JsonObject>;
      const required = new Set((query.required ?? []) as string[]);
      for (const [name, schema] of Object.entries(properties)) {
        const { description, ...rest } = schema;
        parameters.push({
          name,
          in: 'query',
          required: required.has(name),
          ...(description ? { description } : {}),
          schema: rest,
        });
      }
    }
    for (const header of route.headers ?? []) {
      const { description, ...schema } = components.inline(header.schema, 'input');
      parameters.push({
        name: header.name,
        in: 'header',
        required: header.required ?? false,
        description: header.description ?? description,
        schema,
      });
    }
    if (parameters.length > 0) operation.parameters = parameters;

    if (route.requestBody) {
      operation.requestBody = {
        required: true,
        ...(route.requestBody.description ? { description: route.requestBody.description } : {}),
        content: { 'application/json': { schema: components.ref(route.requestBody.schema, 'input') } },
      };
    }

    const responses: Record<string, JsonObject> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.headers ? { headers: response.headers } : {}),
        ...(response.schema
          ? {
              content: {
                [response.contentType ?? 'application/json']: { schema: components.ref(response.schema, 'output') },
                ...response.alternatives,
              },
            }
          : {}),
      };
    }
    for (const status of problemStatuses(route)) {
      responses[String(status)] = { $ref: `#/components/responses/Problem${status}` };
      components.useProblem(status);
    }
    if (route.auth === 'function') {
      responses['401'] = { description: 'No valid function key (the Functions host answers without a body).' };
    }
    operation.responses = sortByStatus(responses);

    (paths[route.path] ??= {})[route.method] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'SMS pipeline API',
      version: options.version ?? '0.1.0',
      description:
        'Send SMS through Azure Communication Services and follow every message to its delivery report. ' +
        'Errors are RFC 9457 problem details (application/problem+json). See docs/api.md.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: options.serverUrl ?? '/' }],
    tags: [
      { name: 'messages', description: 'Sending and following messages.' },
      { name: 'opt-outs', description: 'Consent: opt-outs in force, changes through the API, the consent log.' },
      { name: 'conversations', description: 'Threads of texts sent and received.' },
      { name: 'privacy', description: 'Erasure at a person\'s request.' },
      { name: 'analytics', description: 'Usage and engagement figures, and the dashboard.' },
      { name: 'operations', description: 'Health and this document.' },
    ],
    paths,
    components: {
      schemas: components.schemas,
      responses: components.problemResponses(),
      securitySchemes: {
        functionKeyHeader: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'A function key (or the host key) of the function app.',
        },
        functionKeyQuery: { type: 'apiKey', in: 'query', name: 'code', description: 'The same key as a query parameter.' },
      },
    },
  };
}

function sortByStatus(responses: Record<string, JsonObject>): Record<string, JsonObject> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/** Converts zod schemas, collecting the named ones (and any $defs zod extracts) under components. */
class ComponentRegistry {
  readonly schemas: Record<string, JsonObject> = {};
  private readonly problems = new Set<number>();

  /** A $ref to the named component of `schema`, or the schema inline when it has no name. */
  ref(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
    const name = COMPONENTS.get(schema);
    if (!name) return this.inline(schema, io);
    // A schema with defaults or transforms differs between input and output; the names in
    // COMPONENTS are used in one direction only, so one name is one JSON Schema.
    this.schemas[name] ??= this.convert(schema, io, name);
    return { $ref: `#/components/schemas/${name}` };
  }

  inline(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
    return this.convert(schema, io, 'Inline');
  }

  useProblem(status: number): void {
    this.problems.add(status);
    this.ref(problemDetails, 'output');
  }

  problemResponses(): Record<string, JsonObject> {
    const out: Record<string, JsonObject> = {};
    for (const status of [...this.problems].sort((a, b) => a - b)) {
      const kind = Object.values(PROBLEM_TYPES).find((t) => t.status === status);
      out[`Problem${status}`] = {
        description: PROBLEM_DESCRIPTIONS[status] ?? kind?.title ?? 'A problem.',
        ...(status === 503 || status === 409 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } } },
      };
    }
    return out;
  }

  private convert(schema: z.ZodType, io: 'input' | 'output', owner: string): JsonObject {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
      // z.number().int() carries the safe-integer range as bounds: noise to a reader of the API.
      override: ({ jsonSchema }) => {
        if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
        if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      },
    }) as JsonObject;
    delete json.$schema; // the document's dialect (OpenAPI 3.1 = draft 2020-12) applies
    const defs = json.$defs as Record<string, JsonObject> | undefined;
    delete json.$defs;
    if (!defs) return json;
    // "#/$defs/x" would resolve against the OpenAPI document, not this schema: hoist the
    // definitions into components and point the references there.
    const rename = (def: string) => `${owner}_${def}`;
    for (const [def, value] of Object.entries(defs)) this.schemas[rename(def)] ??= rewriteRefs(value, rename) as JsonObject;
    return rewriteRefs(json, rename) as JsonObject;
  }
}

function rewriteRefs(value: unknown, rename: (def: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, rename));
  if (value && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
          ? `#/components/schemas/${rename(v.slice('#/$defs/'.length))}`
          : rewriteRefs(v, rename);
    }
    return out;
  }
  return value;
}

let cachedDocument: string | undefined;

/** The document as JSON text, built once per process (it depends on code only). */
export function openApiJson(): string {
  cachedDocument ??= JSON.stringify(buildOpenApiDocument());
  return cachedDocument;
}
