// Signing webhook deliveries the Standard Webhooks way (standardwebhooks.com, spec 1.0.0): the
// receiver checks "webhook-signature" = "v1,<base64 HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${body}`>"
// with a secret it shares with the pipeline, and refuses old timestamps. Pure: no I/O.
import { createHash, createHmac } from 'node:crypto';

/** The spec's prefix of a serialized symmetric secret: "whsec_" + base64 of the key bytes. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** The spec asks for 24 to 64 random bytes (192 to 512 bits). */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

export type ParsedSecrets = { ok: true; keys: Buffer[] } | { ok: false; reason: string };

/**
 * Reads STATUS_WEBHOOK_SECRET: one secret, or several separated by spaces while one is being
 * rotated (every delivery is then signed with each, and the header lists every signature).
 * A secret is either "whsec_<base64>" as the spec serializes it (the key is the decoded bytes),
 * or any other text (no spaces) of at least 24 bytes, used as its UTF-8 bytes (the reference
 * libraries' "raw" format).
 */
export function parseWebhookSecrets(setting: string): ParsedSecrets {
  const parts = setting.split(/\s+/).filter(Boolean);
  if (parts.length === 0) return { ok: false, reason: 'must not be empty' };
  const keys: Buffer[] = [];
  for (const [i, part] of parts.entries()) {
    const which = parts.length > 1 ? `secret ${i + 1}: ` : '';
    if (part.startsWith(WEBHOOK_SECRET_PREFIX)) {
      const b64 = part.slice(WEBHOOK_SECRET_PREFIX.length);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
        return { ok: false, reason: `${which}after "whsec_" must come standard base64 (A-Z a-z 0-9 + /, padded with =)` };
      }
      const key = Buffer.from(b64, 'base64');
      if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
        return {
          ok: false,
          reason: `${which}a whsec_ secret must encode ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, this one encodes ${key.length}`,
        };
      }
      keys.push(key);
    } else {
      const key = Buffer.from(part, 'utf8');
      if (key.length < MIN_SECRET_BYTES || key.length > 256) {
        return {
          ok: false,
          reason: `${which}must be whsec_<base64 of 24-64 random bytes>, or a raw secret of ${MIN_SECRET_BYTES} to 256 bytes`,
        };
      }
      keys.push(key);
    }
  }
  return { ok: true, keys };
}

/** The "webhook-signature" header value: "v1,<sig>" for each key, space separated. */
export function signWebhook(keys: readonly Buffer[], id: string, timestampSeconds: number, body: string): string {
  const content = `${id}.${timestampSeconds}.${body}`;
  return keys.map((key) => `v1,${createHmac('sha256', key).update(content, 'utf8').digest('base64')}`).join(' ');
}

/**
 * The "webhook-id" of a delivery of these events: derived from their ids, so every retry of the
 * same delivery carries the same id (the spec's idempotency key), and free of "." as the spec asks.
 */
export function webhookMessageId(events: ReadonlyArray<{ id: string; source: string }>): string {
  const hash = createHash('sha256');
  for (const e of events) hash.update(`${e.source}\n${e.id}\n`);
  return `msg_${hash.digest('base64url').slice(0, 32)}`;
}
