// RFC 9457 problem details: every 4xx/5xx the HTTP API returns has this shape, with a stable
// `type`, a human `detail`, and per-field `errors` for validation failures.
import { z } from 'zod';
import type { FieldError } from '../domain/validation.js';

export type { FieldError };

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** A plain HTTP response, independent of the Functions SDK. */
export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

const TYPE_BASE = 'https://github.com/azure-sms-pipeline/docs/problems/';

/** Stable problem types. */
export const PROBLEM_TYPES = {
  validation: { slug: 'validation-error', title: 'The request is not valid', status: 400 },
  invalidJson: { slug: 'invalid-json', title: 'The request body is not valid JSON', status: 400 },
  unsupportedMediaType: { slug: 'unsupported-media-type', title: 'The request body must be JSON', status: 415 },
  payloadTooLarge: { slug: 'payload-too-large', title: 'The request body is too large', status: 413 },
  unauthorized: { slug: 'unauthorized', title: 'The request did not prove who sent it', status: 401 },
  forbidden: { slug: 'forbidden', title: 'The caller may not do this', status: 403 },
  notFound: { slug: 'not-found', title: 'Not found', status: 404 },
  conflict: { slug: 'conflict', title: 'The request conflicts with the current state', status: 409 },
  idempotencyMismatch: {
    slug: 'idempotency-key-reused',
    title: 'The Idempotency-Key was used with a different request',
    status: 422,
  },
  idempotencyInProgress: {
    slug: 'idempotency-key-in-progress',
    title: 'A request with this Idempotency-Key is still being processed',
    status: 409,
  },
  destinationNotPermitted: {
    slug: 'destination-not-permitted',
    title: 'Sending to this destination is not permitted',
    status: 403,
  },
  budgetExceeded: { slug: 'budget-exceeded', title: 'A sending budget is reached', status: 429 },
  unavailable: { slug: 'service-unavailable', title: 'A dependency is unavailable; try again later', status: 503 },
  internal: { slug: 'internal-error', title: 'Something went wrong on our side', status: 500 },
} as const;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

export function problem(
  kind: ProblemKind,
  detail: string,
  extra: { errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
): HttpResult {
  const { headers, ...extensions } = extra;
  const t = PROBLEM_TYPES[kind];
  const body: Problem = { type: TYPE_BASE + t.slug, title: t.title, status: t.status, detail, ...extensions };
  return {
    status: t.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify(body),
  };
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResult {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

/** Turns a zod path into the JSON-path-like field name clients see: to[3], metadata.color. */
export function fieldName(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(body)';
}

export function zodFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ field: fieldName(issue.path), message: issue.message }));
}

/** A validation problem naming every field that is wrong. */
export function validationProblem(errors: FieldError[]): HttpResult {
  const names = [...new Set(errors.map((e) => e.field))];
  return problem(
    'validation',
    `Invalid ${names.join(', ')}: ${errors[0]?.message ?? 'see errors'}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
    { errors },
  );
}

/** RFC 9457 problem details, as every 4xx/5xx of the API carries them (the OpenAPI component). */
export const problemDetails = z
  .looseObject({
    type: z.string().describe('A stable URI naming the kind of problem; compare on it, not on the text.'),
    title: z.string().describe('A short summary of the kind of problem.'),
    status: z.number().int().describe('The HTTP status code.'),
    detail: z.string().describe('What went wrong with this request, in words.'),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string().describe('JSON path of the field, e.g. "to[3]".'), message: z.string() }))
      .optional()
      .describe('Every field that is wrong (validation problems).'),
  })
  .describe(
    'RFC 9457 problem details. Extension members may appear, e.g. "dependency" on a 503, "messageStatus" on a 409 of a cancel.',
  );
