// Idempotency-Key for POST requests (IETF draft-ietf-httpapi-idempotency-key-header, as Stripe
// practises it): the first request with a key runs and its response is kept for 24 hours; a
// repeat with the same body gets that response again, a different body a 422, and a repeat that
// arrives while the first is still running waits briefly, then gets a 409 with Retry-After.
//
// Decisions (docs/api.md explains them to clients):
// - A key is one operation from its first request on: its id (a submit's batch id) is fixed when
//   the key is reserved, and every retry works under it, whatever state the first attempt died
//   in — so a retry completes what the first began and can never start a second batch.
// - The owner renews a short lease (IDEMPOTENCY_LEASE_MS) while it runs. A retry that finds the
//   lease lapsed — the process died, or its storage calls failed — takes the key over at once and
//   resumes the operation. Two owners at a time (a slow one and its successor) are harmless: the
//   operation is idempotent under its id and answers the same.
// - Responses of requests that took effect (2xx) are kept. A 4xx (the body failed validation:
//   nothing was done) releases the key. A thrown failure keeps it, its lease ended at once: the
//   first attempt may have done part of the work, so the retry must finish it under the same id.
// - The fingerprint is taken over the validated body (defaults applied, keys sorted), so
//   reformatting or reordering JSON is the same request, and a changed field is not.
import { fingerprintOf, IDEMPOTENCY_HEARTBEAT_MS, IDEMPOTENCY_LEASE_MS, type StoredResponse } from '../domain/idempotency.js';
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
  /** The id a new operation gets when the key is first reserved (a submit: a new batch id). */
  newOperationId: () => string;
  /** How long a repeat waits for a running first request before answering 409 (default 2 s). */
  waitMs?: number;
  /** How often it looks meanwhile (default 100 ms). */
  pollMs?: number;
  /** How long a reservation is held without renewal (default IDEMPOTENCY_LEASE_MS). */
  leaseMs?: number;
  /** How often the owner renews it (default IDEMPOTENCY_HEARTBEAT_MS). */
  heartbeatMs?: number;
}

/** The operation `run` is asked to do: a new one, or one an earlier attempt with this key began. */
export interface IdempotentOperation {
  /** Fixed by the key's first request; absent without a key. */
  operationId?: string;
  /** An earlier attempt with this key stopped before answering: finish its work, do not start over. */
  resumed: boolean;
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
  run: (operation: IdempotentOperation) => Promise<HttpResult>,
  options: IdempotencyOptions,
): Promise<HttpResult> {
  if (key === undefined) return run({ resumed: false });
  const { clock, log } = options;
  const waitMs = options.waitMs ?? 2000;
  const pollMs = options.pollMs ?? 100;
  const leaseMs = options.leaseMs ?? IDEMPOTENCY_LEASE_MS;
  const storeKey = scopedKey(options.scope ?? 'submitMessages', key);
  const fingerprint = fingerprintOf(body);

  // A repeat that races the first request waits a moment: most requests finish well within it,
  // and a replay is more useful to the client than "try again".
  const deadline = clock.now().getTime() + waitMs;
  const reserve = () => store.reserve(storeKey, fingerprint, clock.now(), options.newOperationId());
  let reservation = await reserve();
  while (reservation.kind === 'inProgress' && clock.now().getTime() < deadline) {
    await clock.sleep(Math.min(pollMs, Math.max(1, reservation.retryAfterMs)));
    reservation = await reserve();
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
        'A request with this Idempotency-Key is still being processed. Retry after Retry-After seconds to get its response; if it has stopped by then, the retry finishes it.',
        // A live owner usually answers within a second or two, and a dead one's lease lapses within
        // IDEMPOTENCY_LEASE_MS: a retry soon gets the answer, or takes the key over.
        { headers: { 'retry-after': String(Math.min(2, Math.max(1, Math.ceil(reservation.retryAfterMs / 1000)))) } },
      );
    case 'reserved':
      break;
  }

  const lease = new Lease(store, storeKey, reservation.token, clock, leaseMs, options.heartbeatMs ?? IDEMPOTENCY_HEARTBEAT_MS);
  let result: HttpResult;
  try {
    result = await run({ operationId: reservation.operationId, resumed: reservation.resumed });
  } catch (error) {
    // Part of the work may be done: the key keeps its operation, and the next retry takes over now.
    await lease.end(clock.now(), log);
    throw error;
  } finally {
    lease.stopRenewing();
  }
  if (result.status >= 400 && result.status < 500) {
    await lease.release(log);
    return result;
  }
  if (result.status < 200 || result.status >= 300) {
    await lease.end(clock.now(), log);
    return result;
  }
  await lease.complete(result, log);
  return result;
}

/** The reservation while its owner works: renewed in the background, then completed, released or ended. */
class Lease {
  private timer: ReturnType<typeof setInterval> | undefined;
  private renewing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: IdempotencyStore,
    private readonly key: string,
    private token: string,
    private readonly clock: Clock,
    private readonly leaseMs: number,
    heartbeatMs: number,
  ) {
    this.timer = setInterval(() => {
      this.renewing = this.renewing.then(async () => {
        try {
          this.token = await this.store.renew(this.key, this.token, new Date(this.clock.now().getTime() + this.leaseMs));
        } catch {
          // Storage is slow or down, or a retry took over: the lease lapses, which is safe.
        }
      });
    }, heartbeatMs);
    this.timer.unref?.();
  }

  stopRenewing(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends the lease now, keeping the operation, so a retry takes over at once. */
  async end(now: Date, log: Logger): Promise<void> {
    this.stopRenewing();
    await this.renewing;
    try {
      this.token = await this.store.renew(this.key, this.token, now);
    } catch (error) {
      log.warn('idempotency lease not ended; a retry takes the key over when it lapses', { error: String(error) });
    }
  }

  async release(log: Logger): Promise<void> {
    this.stopRenewing();
    await this.renewing;
    try {
      await this.store.release(this.key, this.token);
    } catch (error) {
      // The lease frees the key later; the request's own outcome matters more than this.
      log.warn('idempotency reservation not released; a retry takes the key over when its lease lapses', {
        error: String(error),
      });
    }
  }

  /**
   * The request took effect, so its answer goes to the client whatever happens here. If the
   * response cannot be kept, a retry takes the key over and answers the same from the operation.
   */
  async complete(response: HttpResult, log: Logger): Promise<void> {
    this.stopRenewing();
    await this.renewing;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.complete(this.key, this.token, response);
        return;
      } catch (error) {
        if (error instanceof ConcurrencyError || attempt >= 3) {
          log.warn('idempotent response not stored; a retry with this key resumes the same operation', {
            error: String(error),
            takenOver: error instanceof ConcurrencyError,
          });
          return;
        }
        await this.clock.sleep(200 * attempt);
      }
    }
  }
}

/** A kept response, marked as a replay. */
export function replay(response: StoredResponse): HttpResult {
  return {
    status: response.status,
    headers: { ...response.headers, [REPLAYED_HEADER]: 'true' },
    ...(response.body !== undefined ? { body: response.body } : {}),
  };
}
