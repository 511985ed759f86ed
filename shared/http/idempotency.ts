// Idempotency-Key for POST requests (IETF draft-ietf-httpapi-idempotency-key-header, as Stripe
// practises it): the first request with a key runs and its response is kept for 24 hours; a
// repeat with the same body gets that response again, a different body a 422, and a repeat that
// arrives while the first is still running waits briefly, then gets a 409.
//
// Decisions (docs/api.md explains them to clients):
// - Only responses of requests that took effect (2xx) are kept. A 4xx (the body failed
//   validation: nothing was done) and a thrown failure (503 etc.: submit writes nothing unless
//   its enqueue succeeded) release the key, so a corrected or later retry with the same key is
//   processed. Stripe does the same for validation failures; the draft leaves errors other than
//   its own to the server's documentation.
// - The fingerprint is taken over the validated body (defaults applied, keys sorted), so
//   reformatting or reordering JSON is the same request, and a changed field is not.
// - A reservation nobody completed or released within IDEMPOTENCY_LEASE_MS is abandoned (its
//   process died; the Functions timeout is 5 minutes) and the next request takes the key over.
import { fingerprintOf, type StoredResponse } from '../domain/idempotency.js';
import { ConcurrencyError } from '../ports/errors.js';
import type { IdempotencyStore } from '../ports/idempotency.js';
import type { Clock, Logger } from '../ports/runtime.js';
import { z } from 'zod';
import { problem, type HttpResult } from './problem.js';

/** Longest Idempotency-Key accepted (Stripe's limit, and plenty for a UUID or a hash). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** Printable ASCII: what an RFC 8941 sf-string may hold, and safe to log and compare. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7E]+$/;

/** The header as the OpenAPI document describes it. */
export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(IDEMPOTENCY_KEY_MAX_LENGTH)
  .regex(IDEMPOTENCY_KEY_PATTERN)
  .describe(
    'A unique key per logical request (a UUID is recommended), 1-255 printable ASCII characters, bare or as an RFC 8941 string ("..."). ' +
      'The same key with the same body within 24 hours returns the original response (with Idempotent-Replayed: true) and sends nothing; ' +
      'with a different body it is a 422; while the first request is still running, a 409.',
  );

/** The request header, lower-case as the Functions host presents header names. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Added to a replayed response, as Stripe does, so a client can tell a replay from a first answer. */
export const REPLAYED_HEADER = 'idempotent-replayed';

/**
 * Reads the Idempotency-Key header: absent is fine (no idempotency), present must be 1-255
 * printable ASCII characters. The draft makes the value an RFC 8941 sf-string ("..."); Stripe
 * and most clients send it bare. Both are accepted and mean the same key.
 */
export function parseIdempotencyKey(
  header: string | null | undefined,
): { ok: true; key: string | undefined } | { ok: false; result: HttpResult } {
  if (header === null || header === undefined) return { ok: true, key: undefined };
  let key = header;
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) {
    const unquoted = unquoteSfString(key);
    if (unquoted === undefined) return badKey('is a quoted string with an invalid escape (only \\" and \\\\ are allowed)');
    key = unquoted;
  }
  if (key.length === 0) return badKey('must not be empty');
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH)
    return badKey(`must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters (got ${key.length})`);
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) return badKey('may contain only printable ASCII characters');
  return { ok: true, key };
}

function unquoteSfString(value: string): string | undefined {
  let out = '';
  for (let i = 1; i < value.length - 1; i++) {
    const c = value[i]!;
    if (c === '\\') {
      const next = value[++i];
      if (next !== '"' && next !== '\\') return undefined;
      out += next;
    } else if (c === '"') {
      return undefined;
    } else {
      out += c;
    }
  }
  return out;
}

function badKey(message: string): { ok: false; result: HttpResult } {
  return {
    ok: false,
    result: problem(
      'validation',
      `Invalid Idempotency-Key header: ${message}. Use a UUID or another unique key of 1-${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters.`,
      {
        errors: [{ field: 'Idempotency-Key', message }],
      },
    ),
  };
}

export interface IdempotencyOptions {
  /**
   * The operation the key belongs to: keys are scoped per operation (as Stripe scopes them per
   * endpoint), so the same key on two operations means two requests. Default "submitMessages".
   */
  scope?: string;
  clock: Clock;
  log: Logger;
  /** How long a repeat waits for a running first request before answering 409 (default 2 s). */
  waitMs?: number;
  /** How often it looks meanwhile (default 100 ms). */
  pollMs?: number;
}

/** The key a store sees: operation and client key together. */
export function scopedKey(scope: string, key: string): string {
  return `${scope}\n${key}`;
}

/**
 * Runs `run` at most once per key and body within 24 hours and answers repeats from the store.
 * Without a key it just runs. `body` is the validated request body (it makes the fingerprint).
 */
export async function withIdempotency(
  store: IdempotencyStore,
  key: string | undefined,
  body: unknown,
  run: () => Promise<HttpResult>,
  options: IdempotencyOptions,
): Promise<HttpResult> {
  if (key === undefined) return run();
  const { clock, log } = options;
  const waitMs = options.waitMs ?? 2000;
  const pollMs = options.pollMs ?? 100;
  const storeKey = scopedKey(options.scope ?? 'submitMessages', key);
  const fingerprint = fingerprintOf(body);

  // A repeat that races the first request waits a moment: most requests finish well within it,
  // and a replay is more useful to the client than "try again".
  const deadline = clock.now().getTime() + waitMs;
  let reservation = await store.reserve(storeKey, fingerprint, clock.now());
  while (reservation.kind === 'inProgress' && clock.now().getTime() < deadline) {
    await clock.sleep(pollMs);
    reservation = await store.reserve(storeKey, fingerprint, clock.now());
  }

  switch (reservation.kind) {
    case 'completed':
      return replay(reservation.response);
    case 'mismatch':
      return problem(
        'idempotencyMismatch',
        'This Idempotency-Key was used within the last 24 hours with a different request body. Use a new key for a new request.',
      );
    case 'inProgress':
      return problem(
        'idempotencyInProgress',
        'A request with this Idempotency-Key is still being processed. Retry in a moment to get its response.',
        {
          headers: { 'retry-after': '1' },
        },
      );
    case 'reserved':
      break;
  }

  const token = reservation.token;
  let result: HttpResult;
  try {
    result = await run();
  } catch (error) {
    await releaseQuietly(store, storeKey, token, log);
    throw error;
  }
  if (result.status < 200 || result.status >= 300) {
    await releaseQuietly(store, storeKey, token, log);
    return result;
  }
  await completeWithRetry(store, storeKey, token, result, clock, log);
  return result;
}

/** A kept response, marked as a replay. */
export function replay(response: StoredResponse): HttpResult {
  return {
    status: response.status,
    headers: { ...response.headers, [REPLAYED_HEADER]: 'true' },
    ...(response.body !== undefined ? { body: response.body } : {}),
  };
}

async function releaseQuietly(store: IdempotencyStore, key: string, token: string, log: Logger): Promise<void> {
  try {
    await store.release(key, token);
  } catch (error) {
    // The lease frees the key later; the request's own outcome matters more than this.
    log.warn('idempotency reservation not released; it frees itself when its lease ends', { error: String(error) });
  }
}

async function completeWithRetry(
  store: IdempotencyStore,
  key: string,
  token: string,
  response: HttpResult,
  clock: Clock,
  log: Logger,
): Promise<void> {
  // The request took effect, so its answer goes to the client whatever happens here. If the
  // response cannot be kept, a retry after the lease would run the request again: try hard.
  for (let attempt = 1; ; attempt++) {
    try {
      await store.complete(key, token, response);
      return;
    } catch (error) {
      if (error instanceof ConcurrencyError || attempt >= 3) {
        log.error('idempotent response not stored; a retry with this key after the lease would run again', {
          error: String(error),
          lost: error instanceof ConcurrencyError,
        });
        return;
      }
      await clock.sleep(200 * attempt);
    }
  }
}
