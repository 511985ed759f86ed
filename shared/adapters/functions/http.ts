// Glue between the Functions HTTP types and the pipeline's plain HttpResult: reading a JSON body
// within limits, mapping results and failures to responses. Failures of dependencies become a
// 503 problem with Retry-After, anything unexpected a 500 problem without internals.
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { problem, validationProblem, zodFieldErrors, type HttpResult } from '../../http/problem.js';
import { MAX_BODY_BYTES } from '../../http/messages.js';
import { normalizePhoneNumber } from '../../domain/phoneNumber.js';
import { DependencyUnavailableError, InvalidContinuationTokenError, SubmitInterruptedError } from '../../ports/errors.js';
import type { Logger } from '../../ports/runtime.js';
import type { Caller } from '../../domain/caller.js';
import { config } from '../../config.js';
import { callerResolver, type CallerResolver } from './callers.js';
import { contextLogger } from './logger.js';

export function toResponse(result: HttpResult): HttpResponseInit {
  return { status: result.status, headers: result.headers, ...(result.body !== undefined ? { body: result.body } : {}) };
}

/**
 * The 503 for an outage, saying truthfully what became of the request: nothing (a read, or a write
 * that certainly never arrived), or maybe something — then what the client can safely do.
 */
export function unavailable(method: string, error: DependencyUnavailableError): HttpResult {
  const extra = { headers: { 'retry-after': '5' }, dependency: error.dependency };
  if (error instanceof SubmitInterruptedError) {
    return problem(
      'unavailable',
      `The ${error.dependency} did not answer while the messages were being accepted, so batch ${error.batchId} may or may not have been accepted. ` +
        `Retrying with the same Idempotency-Key is safe: it finishes that batch and never sends a message twice. Without a key, ` +
        `GET /api/batches/${error.batchId} before sending again.`,
      { ...extra, batchId: error.batchId },
    );
  }
  if (method === 'GET' || !error.uncertain) {
    return problem(
      'unavailable',
      `The ${error.dependency} is unavailable right now; nothing was changed. Try again shortly.`,
      extra,
    );
  }
  return problem(
    'unavailable',
    `The ${error.dependency} did not answer in time, so the request may or may not have taken effect. Repeating it is safe: it changes nothing twice.`,
    extra,
  );
}

/** Reads and validates a JSON body; returns the problem to answer with when it is not acceptable. */
export async function readJsonBody<T extends z.ZodType>(
  request: HttpRequest,
  schema: T,
): Promise<{ ok: true; value: z.output<T>; raw: string } | { ok: false; result: HttpResult }> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(contentType)) {
    return {
      ok: false,
      result: problem(
        'unsupportedMediaType',
        `Send the body as application/json (got "${contentType.slice(0, 60) || 'no content type'}").`,
      ),
    };
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) {
    return {
      ok: false,
      result: problem('payloadTooLarge', `The body is ${declared} bytes; at most ${MAX_BODY_BYTES} are accepted.`),
    };
  }
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > MAX_BODY_BYTES) {
    return {
      ok: false,
      result: problem('payloadTooLarge', `The body is ${bytes.length} bytes; at most ${MAX_BODY_BYTES} are accepted.`),
    };
  }
  const raw = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // Never the parser's message: it quotes the body back, and problems never echo input.
    return {
      ok: false,
      result: problem('invalidJson', 'The body is not valid JSON. Send one JSON object, as the API reference shows.'),
    };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, result: validationProblem(zodFieldErrors(parsed.error)) };
  return { ok: true, value: parsed.data, raw };
}

let resolveCaller: CallerResolver | undefined;

/**
 * Runs an HTTP use case with the invocation's logger and its caller — authenticated, and allowed
 * this operation (context.functionName; callers.ts, domain/access.ts) — turning refusals into
 * 401/403 and thrown failures into problem responses.
 */
export async function handleHttp(
  request: HttpRequest,
  context: InvocationContext,
  run: (log: Logger, caller: Caller) => Promise<HttpResult>,
): Promise<HttpResponseInit> {
  const log = contextLogger(context);
  try {
    resolveCaller ??= callerResolver(config().auth);
    const who = await resolveCaller(request, context.functionName, log);
    if (!who.ok) return toResponse(who.result);
    // With tokens, every log entry of the request names the app that made it: who erased, who sent.
    const app = who.caller.app;
    const logged: Logger =
      who.caller.via === 'entra'
        ? {
            info: (m, p) => log.info(m, { ...p, callerApp: app }),
            warn: (m, p) => log.warn(m, { ...p, callerApp: app }),
            error: (m, p) => log.error(m, { ...p, callerApp: app }),
          }
        : log;
    return toResponse(await run(logged, who.caller));
  } catch (error) {
    if (error instanceof InvalidContinuationTokenError) {
      return toResponse(validationProblem([{ field: 'continuationToken', message: error.message }]));
    }
    if (error instanceof DependencyUnavailableError) {
      log.warn('dependency unavailable', { dependency: error.dependency, uncertain: error.uncertain, error: error.message });
      return toResponse(unavailable(request.method, error));
    }
    if (error instanceof TypeError && /decode|encoded data/i.test(error.message)) {
      return toResponse(problem('invalidJson', 'The body is not valid UTF-8.'));
    }
    log.error('unhandled error', { error: (error as Error)?.stack ?? String(error) });
    return toResponse(problem('internal', 'The request could not be completed. It has been logged.'));
  }
}

/** Runs `run` with the {phone} of the route as E.164 ("+" optional, "%2B" allowed), or answers 400. */
export function withPhone(request: HttpRequest, run: (phone: string) => Promise<HttpResult>): Promise<HttpResult> {
  const normalized = normalizePhoneNumber((request.params.phone ?? '').slice(0, 64));
  if (!normalized.ok) return Promise.resolve(validationProblem([{ field: 'phone', message: normalized.reason }]));
  return run(normalized.e164);
}

/** Reads the named query parameters and validates them; unknown parameters (such as ?code=) are ignored. */
export function readQuery<T extends z.ZodType>(
  request: HttpRequest,
  schema: T,
  names: readonly string[],
): { ok: true; value: z.output<T> } | { ok: false; result: HttpResult } {
  const raw: Record<string, string> = {};
  for (const name of names) {
    const value = request.query.get(name);
    if (value !== null) raw[name] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, result: validationProblem(zodFieldErrors(parsed.error)) };
  return { ok: true, value: parsed.data };
}
