// Identifiers: a batch id per accepted request, message ids derived from it, and the ACS
// repeatability request id derived from a message id so every retry of a send carries the same one.
import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** Batch ids: 10 characters of time (sortable to the millisecond) then 12 random ones. */
export const BATCH_ID_PATTERN = /^[0-9a-z]{22}$/;
/** Batch ids chosen by apps that enqueue send jobs directly may be any such token. */
export const EXTERNAL_BATCH_ID_PATTERN = /^[A-Za-z0-9_]{1,64}$/;
/** A message id is its batch id, a dash and the recipient's position in the batch. */
export const MESSAGE_ID_PATTERN = /^([A-Za-z0-9_]{1,64})-(\d{1,4})$/;

/** A new, time-sortable batch id. */
export function newBatchId(now: Date = new Date(), random: Uint8Array = randomBytes(8)): string {
  let time = '';
  let ms = now.getTime();
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  return time + base32(random, 12);
}

/** When a batch id made by newBatchId was made; undefined for any other id. */
export function batchTimeOf(batchId: string): Date | undefined {
  if (!BATCH_ID_PATTERN.test(batchId)) return undefined;
  let ms = 0;
  for (const c of batchId.slice(0, 10)) ms = ms * 32 + CROCKFORD.indexOf(c);
  return new Date(ms);
}

/** The id of the recipient at `index` (0-based) of a batch. */
export function messageIdOf(batchId: string, index: number): string {
  return `${batchId}-${String(index).padStart(3, '0')}`;
}

/** Splits a message id into its batch id and index, or undefined when it is not one. */
export function parseMessageId(messageId: string): { batchId: string; index: number } | undefined {
  const match = MESSAGE_ID_PATTERN.exec(messageId);
  if (!match) return undefined;
  return { batchId: match[1]!, index: Number(match[2]) };
}

/**
 * The ACS repeatability request id for a message: a UUID (version 8, name-based) from the
 * message id, so a redelivered send job repeats the same id and ACS refuses a second send.
 */
export function repeatabilityRequestIdOf(messageId: string): string {
  const hash = createHash('sha256').update(`sms-pipeline/repeatability/${messageId}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** An inbound message id without its "Incoming_" prefix: the id the pipeline shows and deduplicates on. */
export function normalizeAcsMessageId(id: string): string {
  return id.replace(/^(Outgoing_|Incoming_)/i, '');
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The key an ACS message id is matched by, whatever its decoration. ACS has published outgoing ids
 * as "Outgoing_<stamp><guid>", with "_noam" after it, with no prefix at all, and as
 * "<time>_<guid>_prod_<geo>_<region>_outgoing-mms" (acsFacts.ts MESSAGE_ID_FORMS), and a send
 * response and its delivery report need not use the same one. Every form carries exactly one GUID:
 * the key is that GUID, lowercased. An id without exactly one GUID (never published) keys on itself
 * without the "Outgoing_"/"Incoming_" prefix and a "_noam"/"_prod_nam" suffix.
 */
export function acsMessageKey(id: string): string {
  const guids = id.match(GUID);
  if (guids?.length === 1) return guids[0]!.toLowerCase();
  return id.replace(/^(Outgoing_|Incoming_)/i, '').replace(/_(noam|prod_nam)$/i, '');
}
