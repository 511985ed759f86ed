// How a route of the HTTP API is described for the OpenAPI document. Each resource's file lists
// its own routes next to its contracts; shared/http/openapi.ts turns them into the document.
import type { z } from 'zod';

export type JsonObject = Record<string, unknown>;

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteResponse {
  description: string;
  /** The JSON body; a component when named in the document's COMPONENTS. */
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

/** The Retry-After response header, as routes document it. */
export const RETRY_AFTER_HEADER = {
  description: 'Seconds to wait before trying again.',
  schema: { type: 'integer', minimum: 0 },
};

/** A person's number as a path parameter. */
export const PHONE_PARAM = { phone: 'The person\'s number, E.164 ("+" optional; "%2B" works too).' };
