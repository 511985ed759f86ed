// The outbox message: events on their way to the app and to analytics. Pure: how a message is
// written (split to fit a Storage queue message) and read back (with a reason when it is not one).
import type { PipelineEvent } from './events.js';

export interface OutboxMessage {
  v: 1;
  events: PipelineEvent[];
  /** Only these destinations get the events (the others already have them); all when absent. */
  destinations?: string[];
  /** Set on a retry: only this destination still has to get the events. */
  destination?: string;
  /** With `destination`: the number of this try (1 is the first).  */
  attempt?: number;
  /** The last delivery error, for the poison queue. */
  lastError?: string;
}

/** Storage queue messages hold 64 KiB of base64, so about 48 KiB of JSON; stay well inside. */
export const MAX_OUTBOX_JSON_BYTES = 40_000;

/** The message as one or more JSON texts, each within MAX_OUTBOX_JSON_BYTES (one event never split). */
export function encodeOutboxMessages(message: OutboxMessage): string[] {
  const whole = JSON.stringify(message);
  if (Buffer.byteLength(whole) <= MAX_OUTBOX_JSON_BYTES || message.events.length <= 1) return [whole];
  const half = Math.ceil(message.events.length / 2);
  return [
    ...encodeOutboxMessages({ ...message, events: message.events.slice(0, half) }),
    ...encodeOutboxMessages({ ...message, events: message.events.slice(half) }),
  ];
}

export type ParsedOutboxMessage = { ok: true; message: OutboxMessage } | { ok: false; reason: string };

/** Reads a queue message (already JSON-parsed by the trigger, or text). */
export function parseOutboxMessage(body: unknown): ParsedOutboxMessage {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const m = value as Record<string, unknown>;
  if (m.v !== 1) return { ok: false, reason: 'v must be 1' };
  if (!Array.isArray(m.events)) return { ok: false, reason: 'events must be an array' };
  for (const [i, e] of m.events.entries()) {
    const ev = e as Record<string, unknown> | null;
    if (
      typeof ev !== 'object' ||
      ev === null ||
      typeof ev.id !== 'string' ||
      typeof ev.type !== 'string' ||
      typeof ev.time !== 'string'
    ) {
      return { ok: false, reason: `events[${i}] is not a pipeline event (id, type and time are required)` };
    }
  }
  if (m.destination !== undefined && typeof m.destination !== 'string')
    return { ok: false, reason: 'destination must be a string' };
  if (m.destinations !== undefined && (!Array.isArray(m.destinations) || !m.destinations.every((d) => typeof d === 'string'))) {
    return { ok: false, reason: 'destinations must be an array of destination names' };
  }
  if (m.attempt !== undefined && (!Number.isInteger(m.attempt) || (m.attempt as number) < 0))
    return { ok: false, reason: 'attempt must be a whole number' };
  return {
    ok: true,
    message: {
      v: 1,
      events: m.events as PipelineEvent[],
      ...(Array.isArray(m.destinations) ? { destinations: m.destinations as string[] } : {}),
      ...(typeof m.destination === 'string' ? { destination: m.destination } : {}),
      ...(typeof m.attempt === 'number' ? { attempt: m.attempt } : {}),
      ...(typeof m.lastError === 'string' ? { lastError: m.lastError } : {}),
    },
  };
}
