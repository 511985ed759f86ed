// Delivers the pipeline's events to their destinations (webhooks, the Event Grid topic,
// analytics). eventPublisher is where they start, right after the change behind them is stored:
// the destinations in the pipeline's own storage get them at once, the rest through the outbox
// queue, which dispatchEvents takes them from. A destination that fails gets its own retry message
// with exponential backoff and jitter, so the others are not delivered twice; after the last
// attempt the message goes to the poison queue with its error. Delivery is at least once:
// receivers dedupe on the event id.
import { parseOutboxMessage, type OutboxMessage } from '../domain/outbox.js';
import { eventApp, type PipelineEvent } from '../domain/events.js';
import type { EventDestination, EventOutbox, EventPublisher, RetryAfterHint } from '../ports/events.js';
import type { Clock, Logger } from '../ports/runtime.js';

/** Default first retry delay (EVENTS_RETRY_BASE_SECONDS); it doubles per try up to EVENT_RETRY_MAX_MS. */
export const EVENT_RETRY_BASE_MS = 10_000;
export const EVENT_RETRY_MAX_MS = 3600_000;
/** About 5 hours of retries with the default backoff. */
export const EVENT_MAX_ATTEMPTS = 12;

export interface DispatchDeps {
  destinations: readonly EventDestination[];
  outbox: EventOutbox;
  clock: Clock;
  log: Logger;
  maxAttempts?: number;
  /** First retry delay; EVENT_RETRY_BASE_MS when absent. */
  retryBaseMs?: number;
  random?: () => number;
}

export type DispatchOutcome =
  | { kind: 'malformed'; reason: string }
  | { kind: 'dispatched'; delivered: string[]; retrying: string[]; poisoned: string[]; skipped: string[] };

/** Handles one outbox message; throws only when the outbox itself cannot be written. */
export async function dispatchEvents(deps: DispatchDeps, body: unknown): Promise<DispatchOutcome> {
  const parsed = parseOutboxMessage(body);
  if (!parsed.ok) {
    deps.log.warn('outbox message rejected', { reason: parsed.reason });
    return { kind: 'malformed', reason: parsed.reason };
  }
  const message = parsed.message;
  const outcome = {
    kind: 'dispatched' as const,
    delivered: [] as string[],
    retrying: [] as string[],
    poisoned: [] as string[],
    skipped: [] as string[],
  };
  let targets = deps.destinations;
  if (message.destination === undefined && message.destinations !== undefined) {
    const named = new Set(message.destinations);
    targets = deps.destinations.filter((d) => named.has(d.name));
    for (const name of named) if (!targets.some((d) => d.name === name)) outcome.skipped.push(name);
  }
  if (message.destination !== undefined) {
    targets = deps.destinations.filter((d) => d.name === message.destination);
    if (targets.length === 0) {
      deps.log.warn('events for a destination that is no longer configured; dropped', {
        destination: message.destination,
        events: message.events.length,
      });
      outcome.skipped.push(message.destination);
      return outcome;
    }
  }

  await Promise.all(
    targets.map(async (destination) => {
      const events = eventsFor(destination, message.events);
      if (events.length === 0) {
        outcome.skipped.push(destination.name);
        return;
      }
      try {
        await destination.deliver(events);
        outcome.delivered.push(destination.name);
      } catch (error) {
        // This was try number `tried` for this destination; the retry message carries the next.
        const tried = message.destination === destination.name ? (message.attempt ?? 1) : 1;
        const retry: OutboxMessage = {
          v: 1,
          events,
          destination: destination.name,
          attempt: tried + 1,
          lastError: describe(error),
        };
        if (tried >= (deps.maxAttempts ?? EVENT_MAX_ATTEMPTS)) {
          await deps.outbox.poison(retry);
          outcome.poisoned.push(destination.name);
          deps.log.error('events not delivered; moved to the poison queue', {
            destination: destination.name,
            events: events.length,
            error: retry.lastError,
          });
          return;
        }
        // A destination that failed may say when to try again (an HTTP Retry-After); honoured up to the backoff cap.
        const hint = (error as RetryAfterHint | undefined)?.retryAfterMs;
        const delay = Math.max(
          backoffMs(tried, deps.random ?? Math.random, deps.retryBaseMs),
          typeof hint === 'number' && Number.isFinite(hint) ? Math.min(hint, EVENT_RETRY_MAX_MS) : 0,
        );
        await deps.outbox.enqueue(retry, delay);
        outcome.retrying.push(destination.name);
        deps.log.warn('events not delivered; will retry', {
          destination: destination.name,
          attempt: tried,
          error: retry.lastError,
        });
      }
    }),
  );
  return outcome;
}

/** The events a destination takes: of its types (all when it names none), of its app (every app's when it names none). */
export function eventsFor(destination: EventDestination, events: readonly PipelineEvent[]): PipelineEvent[] {
  return events.filter(
    (e) =>
      (!destination.types || destination.types.has(e.type)) && (destination.app === undefined || eventApp(e) === destination.app),
  );
}

export interface PublishDeps {
  destinations: readonly EventDestination[];
  outbox: EventOutbox;
  retryBaseMs?: number;
  random?: () => number;
}

/**
 * The EventPublisher of the pipeline: immediate destinations are delivered here and now (a
 * failure puts their events on the outbox as a retry), the others get one outbox message naming
 * them. Throws only when the outbox cannot be written.
 */
export function eventPublisher(deps: PublishDeps): EventPublisher {
  const queued = deps.destinations.filter((d) => !d.immediate);
  return {
    async publish(events: readonly PipelineEvent[]) {
      if (events.length === 0) return;
      const later = queued.filter((d) => eventsFor(d, events).length > 0).map((d) => d.name);
      await Promise.all([
        ...deps.destinations
          .filter((d) => d.immediate)
          .map(async (destination) => {
            const mine = eventsFor(destination, events);
            if (mine.length === 0) return;
            try {
              await destination.deliver(mine);
            } catch (error) {
              // Try 1 was this one; the dispatcher makes the next after the first backoff.
              const retry: OutboxMessage = {
                v: 1,
                events: mine,
                destination: destination.name,
                attempt: 2,
                lastError: describe(error),
              };
              await deps.outbox.enqueue(retry, backoffMs(1, deps.random ?? Math.random, deps.retryBaseMs));
            }
          }),
        later.length > 0 ? deps.outbox.enqueue({ v: 1, events: [...events], destinations: later }) : undefined,
      ]);
    },
  };
}

/** Delay before the next try after `failures` failed tries: exponential, capped, with jitter. */
export function backoffMs(failures: number, random: () => number, baseMs = EVENT_RETRY_BASE_MS): number {
  const ceiling = Math.min(EVENT_RETRY_MAX_MS, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 500);
}
