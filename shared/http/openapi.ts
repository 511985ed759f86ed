// The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas that validate the
// requests, so the document cannot drift from the code. Each resource's file lists its routes
// (messageRoutes, batchRoutes …); a new route is one more entry there.
//
// OpenAPI 3.1 schemas are JSON Schema draft 2020-12, which is zod's default target. Request
// schemas are converted as their input (defaults optional, coerced query values as numbers),
// response schemas as their output.
import { z } from 'zod';
import { analyticsResponse, analyticsRoutes } from './analytics.js';
import { batchResponse, batchRoutes } from './batches.js';
import { conversationResponse, conversationRoutes } from './conversations.js';
import {
  MAX_BODY_BYTES,
  messageListResponse,
  messageRoutes,
  messageView,
  submitMessagesBody,
  submitMessagesResponse,
} from './messages.js';
import { previewResponse } from './messagePreview.js';
import { healthResponse, healthSummaryResponse, operationsRoutes } from './operations.js';
import {
  consentChangeResponse,
  consentHistoryResponse,
  optOutListResponse,
  optOutRoutes,
  optOutStatusResponse,
} from './optOuts.js';
import { PROBLEM_TYPES, problemDetails } from './problem.js';
import { accessOf } from '../domain/access.js';
import {
  conversionResponse,
  holdListResponse,
  holdView,
  releaseHoldBody,
  sendingPutBody,
  sendingResponse,
  sendingRoutes,
} from './sending.js';
import { RETRY_AFTER_HEADER as RETRY_AFTER, type ApiRoute, type JsonObject } from './route.js';
import { linkRoutes } from './links.js';
import { erasureResponse, subjectRoutes } from './subjects.js';
import { templateListResponse, templatePutBody, templateRoutes, templateView } from './templates.js';

export type { ApiRoute } from './route.js';

/** Schemas that appear under components.schemas, by name. */
const COMPONENTS = new Map<z.ZodType, string>([
  [submitMessagesBody, 'SubmitMessagesRequest'],
  [submitMessagesResponse, 'SubmitMessagesResponse'],
  [previewResponse, 'PreviewResponse'],
  [messageView, 'Message'],
  [messageListResponse, 'MessageList'],
  [batchResponse, 'Batch'],
  [healthResponse, 'HealthDetails'],
  [healthSummaryResponse, 'Health'],
  [optOutStatusResponse, 'OptOutStatus'],
  [consentChangeResponse, 'ConsentChange'],
  [optOutListResponse, 'OptOutList'],
  [consentHistoryResponse, 'ConsentHistory'],
  [conversationResponse, 'Conversation'],
  [erasureResponse, 'Erasure'],
  [analyticsResponse, 'AnalyticsReport'],
  [templatePutBody, 'TemplateRequest'],
  [templateView, 'Template'],
  [templateListResponse, 'TemplateList'],
  [sendingPutBody, 'SendingChange'],
  [sendingResponse, 'Sending'],
  [holdView, 'Hold'],
  [holdListResponse, 'HoldList'],
  [releaseHoldBody, 'HoldRelease'],
  [conversionResponse, 'Conversion'],
  [problemDetails, 'ProblemDetails'],
]);

/** Every route of the HTTP API, resource by resource. */
export const API_ROUTES: ApiRoute[] = [
  ...messageRoutes,
  ...batchRoutes,
  ...optOutRoutes,
  ...analyticsRoutes,
  ...conversationRoutes,
  ...subjectRoutes,
  ...templateRoutes,
  ...sendingRoutes,
  ...operationsRoutes,
  ...linkRoutes,
];

/** Problems any route can answer with: bad input where there is input, outages, bugs. */
function problemStatuses(route: ApiRoute): number[] {
  const statuses = new Set(route.problems ?? []);
  if (route.requestBody || route.query || route.headers?.length) statuses.add(400);
  if (!['health', 'healthDetails', 'openApi'].includes(route.operationId)) statuses.add(503);
  statuses.add(500);
  return [...statuses].filter((s) => !route.responses[String(s)]).sort((a, b) => a - b);
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid: `errors` names every wrong field.',
  404: 'Not found.',
  409: 'Conflicts with the current state (e.g. a request with this Idempotency-Key is still running, or the message can no longer be canceled).',
  401: 'No valid bearer token (AUTH_MODE entra or both; WWW-Authenticate says why), or no valid function key (the Functions host answers that without a body).',
  403: 'The token lacks the app role the route needs (`requiredRole`); or, on a send, recipients in countries the geo permissions do not allow (SMS_ALLOWED_COUNTRIES; `errors` names each). Nothing was done.',
  413: `The body is larger than ${MAX_BODY_BYTES} bytes.`,
  415: 'The body is not application/json.',
  422: 'The Idempotency-Key was used with a different request body.',
  429: 'A budget (SMS_BUDGETS) is reached: `budget` says which; Retry-After says when it frees up. Nothing was sent.',
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
    // The app role a token needs for this route (shared/domain/access.ts), in words and as x-required-role.
    const access = accessOf(route.operationId);
    const role = access.kind === 'permission' ? access.permission : undefined;
    const needs = role ? `With Entra ID tokens, the caller needs the app role ${role}.` : '';
    const operation: JsonObject = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description || needs ? { description: [route.description, needs].filter(Boolean).join('\n\n') } : {}),
      tags: route.tags,
      security: route.auth === 'function' ? [{ functionKeyHeader: [] }, { functionKeyQuery: [] }, { entraId: [] }] : [],
      ...(role ? { 'x-required-role': role } : {}),
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
      for (const status of [401, 403]) {
        responses[String(status)] = { $ref: `#/components/responses/Problem${status}` };
        components.useProblem(status);
      }
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
      {
        name: 'templates',
        description: 'Message texts with {{variable}} placeholders, rendered per recipient by POST /api/messages.',
      },
      { name: 'opt-outs', description: 'Consent: opt-outs in force, changes through the API, the consent log.' },
      { name: 'conversations', description: 'Threads of texts sent and received.' },
      { name: 'privacy', description: "Erasure at a person's request." },
      { name: 'analytics', description: 'Usage and engagement figures, and the dashboard.' },
      { name: 'sending', description: 'The fraud and spend guard: the pause switch, budgets, fraud holds.' },
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
        entraId: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'With AUTH_MODE entra or both: a Microsoft Entra ID access token for the pipeline (audience AUTH_AUDIENCE, scope "<app ID URI>/.default"), whose roles claim holds the route\'s app role (x-required-role). docs/security.md.',
        },
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
        ...(status === 503 || status === 409 || status === 429 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
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
