// Message ids in ACS's shapes: "Outgoing_<yyyyMMddHHmmss><guid>_noam" for sends and
// "Incoming_<yyyyMMddHHmmss><guid>" for received texts (spec and event examples), or plain GUIDs.
import { randomUUID } from 'node:crypto';

export type MessageIdFormat = 'acs' | 'guid';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function newOutgoingMessageId(format: MessageIdFormat, now: Date = new Date()): string {
  return format === 'guid' ? randomUUID() : `Outgoing_${stamp(now)}${randomUUID()}_noam`;
}

export function newIncomingMessageId(format: MessageIdFormat, now: Date = new Date()): string {
  return format === 'guid' ? randomUUID() : `Incoming_${stamp(now)}${randomUUID()}`;
}

/** The id without its "Outgoing_"/"Incoming_" prefix; clients store either form. */
export function stripMessageIdPrefix(id: string): string {
  return id.replace(/^(Outgoing_|Incoming_)/i, '');
}
