// Shared Access Signature tokens as the Service Bus stand-in checks them when a client puts one on
// the $cbs node: the signature made with the namespace's key, the expiry, and that the token's
// resource covers the audience it is put for.
//
// The token form and the string signed are the SDK's own (Azure/azure-sdk-for-js
// sdk/core/core-amqp/src/auth/tokenProvider.ts createToken: "SharedAccessSignature
// sr=<encodeURIComponent(audience)>&sig=<base64 HMAC-SHA256>&se=<expiry>&skn=<keyName>", signing
// `encodedAudience + "\n" + expiry` with the key's UTF-8 bytes, util/hmacSha256.ts) and match
// Microsoft's AMQP.NET Lite CBS sample (Azure/amqpnetlite Examples/ServiceBus/Scenarios/
// CbsAsyncExample.cs), which signs an http:// resource and puts it for an amqp:// audience — so the
// scheme is not part of the match.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SharedAccessPolicy {
  keyName: string;
  key: string;
}

export type SasVerdict = { ok: true; expiresAt: number; resource: string } | { ok: false; description: string };

/** Host and path of an audience or resource URI, lower-cased, without scheme, port or slashes at the ends. */
export function resourcePath(uri: string): { host: string; path: string } {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/]*)(.*)$/i.exec(uri.trim());
  const host = (m?.[1] ?? '').replace(/:\d+$/, '').toLowerCase();
  const path = (m?.[2] ?? '').replace(/^\/+|\/+$/g, '').toLowerCase();
  return { host, path };
}

/** Whether a token for `resource` may be used for `audience`: same host, and the resource is the audience or a parent of it. */
export function covers(resource: string, audience: string): boolean {
  const r = resourcePath(resource);
  const a = resourcePath(audience);
  if (r.host !== a.host) return false;
  return r.path === '' || a.path === r.path || a.path.startsWith(`${r.path}/`);
}

function field(fields: Map<string, string>, name: string): string | undefined {
  return fields.get(name);
}

export function verifySasToken(token: unknown, audience: string, policy: SharedAccessPolicy, now: number): SasVerdict {
  if (typeof token !== 'string' || !token.startsWith('SharedAccessSignature ')) {
    return { ok: false, description: 'InvalidToken: the token is not a SharedAccessSignature.' };
  }
  const fields = new Map<string, string>();
  for (const pair of token.slice('SharedAccessSignature '.length).split('&')) {
    const i = pair.indexOf('=');
    if (i > 0) fields.set(pair.slice(0, i), pair.slice(i + 1));
  }
  const sr = field(fields, 'sr');
  const sig = field(fields, 'sig');
  const se = field(fields, 'se');
  const skn = field(fields, 'skn');
  if (!sr || !sig || !se || !skn) return { ok: false, description: 'InvalidToken: sr, sig, se and skn are all required.' };

  if (decodeURIComponent(skn) !== policy.keyName) {
    return { ok: false, description: `InvalidSignature: no policy named '${decodeURIComponent(skn)}' exists on this namespace.` };
  }
  // The signature covers the resource exactly as it appears in the token (still URL-encoded).
  const expected = createHmac('sha256', Buffer.from(policy.key, 'utf8')).update(`${sr}\n${se}`).digest();
  const given = Buffer.from(decodeURIComponent(sig), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, description: 'InvalidSignature: The token has an invalid signature.' };
  }
  const expiresAt = Number(decodeURIComponent(se)) * 1000;
  if (!Number.isFinite(expiresAt) || expiresAt <= now) {
    return {
      ok: false,
      description: `ExpiredToken: The token is expired. Expiration time: '${new Date(expiresAt || 0).toISOString()}'.`,
    };
  }
  const resource = decodeURIComponent(sr);
  if (!covers(resource, audience)) {
    return { ok: false, description: `InvalidAudience: The token's resource '${resource}' does not cover '${audience}'.` };
  }
  return { ok: true, expiresAt, resource };
}
