// Entra ID callers: the token validator (shared/adapters/auth/entraTokens.ts) against the local
// test issuer (local/tokenIssuer.ts), which signs and publishes keys as Entra does; the caller
// resolution (shared/adapters/functions/callers.ts); and the one table of permissions
// (shared/domain/access.ts) against every route of the API.
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { HttpRequest } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraTokenVerifier, type TokenVerifier } from '../../shared/adapters/auth/entraTokens.js';
import { callerResolver, hostAuthLevel } from '../../shared/adapters/functions/callers.js';
import { ANONYMOUS_OPERATIONS, OPERATION_PERMISSIONS, accessOf } from '../../shared/domain/access.js';
import { PERMISSIONS } from '../../shared/domain/caller.js';
import { API_ROUTES } from '../../shared/http/openapi.js';
import { loadConfig, type ConfigError } from '../../shared/config.js';
import { startTokenIssuer, type LocalTokenIssuer } from '../../local/tokenIssuer.js';
import type { Logger } from '../../shared/ports/runtime.js';

const lines: string[] = [];
const log: Logger = {
  info: (m, p) => lines.push(`${m} ${JSON.stringify(p ?? {})}`),
  warn: (m, p) => lines.push(`${m} ${JSON.stringify(p ?? {})}`),
  error: (m, p) => lines.push(`${m} ${JSON.stringify(p ?? {})}`),
};

let issuer: LocalTokenIssuer;
let verify: TokenVerifier;
beforeAll(async () => {
  issuer = await startTokenIssuer();
  verify = entraTokenVerifier({
    issuers: [issuer.issuer],
    audiences: [issuer.audience],
    jwksUrl: issuer.jwksUrl,
    refetchCooldownMs: 300,
  });
});
afterAll(() => issuer.close());

const reasonOf = async (token: string) => {
  const result = await verify(token);
  expect(result.ok).toBe(false);
  return result.ok ? '' : result.reason;
};

describe('the token validator', () => {
  it('accepts a valid token and reads the app from azp (v2.0) or appid (v1.0), and the roles', async () => {
    expect(await verify(await issuer.mint({ app: 'app-booking', roles: ['Messages.Send', 'Other.Role'] }))).toEqual({
      ok: true,
      app: 'app-booking',
      roles: ['Messages.Send', 'Other.Role'],
    });
    expect(await verify(await issuer.mint({ app: 'app-v1', version: 1 }))).toEqual({ ok: true, app: 'app-v1', roles: [] });
  });

  it('refuses an expired token, and one not valid yet, beyond the clock skew', async () => {
    expect(await reasonOf(await issuer.mint({ app: 'a', expiresIn: -120 }))).toMatch(/expired/);
    expect(await reasonOf(await issuer.mint({ app: 'a', notBefore: 600 }))).toMatch(/not valid yet/);
    // Within the skew: a token that expired 10 s ago is still taken (clocks differ a little).
    expect((await verify(await issuer.mint({ app: 'a', expiresIn: -10 }))).ok).toBe(true);
  });

  it('refuses another audience, another issuer, a forged signature', { timeout: 20_000 }, async () => {
    expect(await reasonOf(await issuer.mint({ app: 'a', audience: 'api://another-api' }))).toMatch(/audience/);
    expect(await reasonOf(await issuer.mint({ app: 'a', issuer: 'https://sts.windows.net/evil/' }))).toMatch(/issuer/);
    expect(await reasonOf(await issuer.mint({ app: 'a', forged: true }))).toMatch(/signature/);
  });

  it('refuses alg none and HS256 and other algorithms, and junk', { timeout: 20_000 }, async () => {
    const none = new UnsecuredJWT({ azp: 'a', roles: PERMISSIONS })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setExpirationTime('1h')
      .encode();
    expect(await reasonOf(none)).toMatch(/RS256|well-formed/);
    const hs = await new SignJWT({ azp: 'a', roles: [...PERMISSIONS] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256'));
    expect(await reasonOf(hs)).toMatch(/RS256/);
    const ps = await new SignJWT({ azp: 'a' })
      .setProtectedHeader({ alg: 'PS256' })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setExpirationTime('1h')
      .sign((await generateKeyPair('PS256')).privateKey);
    expect(await reasonOf(ps)).toMatch(/RS256/);
    expect(await reasonOf('not.a.token')).toMatch(/well-formed/);
  });

  it('fetches the keys again for an unknown kid (a rollover), at most once per cooldown', { timeout: 30_000 }, async () => {
    // Its own verifier, with a cooldown long enough that a loaded machine still fits the burst in it.
    const cooldownMs = 2_000;
    const rolling = entraTokenVerifier({
      issuers: [issuer.issuer],
      audiences: [issuer.audience],
      jwksUrl: issuer.jwksUrl,
      refetchCooldownMs: cooldownMs,
    });
    const start = issuer.keyFetches;
    expect((await rolling(await issuer.mint({ app: 'a' }))).ok).toBe(true);
    expect(issuer.keyFetches).toBe(start + 1);
    // Cached: more tokens with a known kid fetch nothing.
    for (let i = 0; i < 3; i++) expect((await rolling(await issuer.mint({ app: 'a' }))).ok).toBe(true);
    expect(issuer.keyFetches).toBe(start + 1);
    await issuer.rotate();
    await new Promise((r) => setTimeout(r, cooldownMs + 100));
    expect(await rolling(await issuer.mint({ app: 'rolled' }))).toMatchObject({ ok: true, app: 'rolled' });
    expect(issuer.keyFetches).toBe(start + 2);
    // A burst of made-up kids right after: refused without hammering the key endpoint.
    const [head, ...rest] = (await issuer.mint({ app: 'a' })).split('.');
    const header = JSON.parse(Buffer.from(head!, 'base64url').toString()) as Record<string, string>;
    const burstStart = Date.now();
    for (let i = 0; i < 3; i++) {
      const fake = [Buffer.from(JSON.stringify({ ...header, kid: `made-up-${i}` })).toString('base64url'), ...rest].join('.');
      const result = await rolling(fake);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.reason).toMatch(/key that is not among/);
    }
    // Only meaningful if the burst fitted in the cooldown (it takes milliseconds; a stalled machine skips the check).
    if (Date.now() - burstStart < cooldownMs - 200) expect(issuer.keyFetches).toBe(start + 2);
  });

  it("says the keys are unavailable (not the caller's fault) when the key endpoint does not answer", async () => {
    const offline = entraTokenVerifier({
      issuers: [issuer.issuer],
      audiences: [issuer.audience],
      jwksUrl: 'http://127.0.0.1:9/keys',
    });
    expect(await offline(await issuer.mint({ app: 'a' }))).toMatchObject({ ok: false, outage: true });
  });
});

const request = (authorization?: string) =>
  new HttpRequest({
    method: 'DELETE',
    url: 'http://localhost/api/subjects/+14255550123',
    headers: authorization ? { authorization } : {},
  });

describe('who calls, and what they may do', () => {
  const entra = () => callerResolver({ mode: 'entra', issuers: [], audiences: [], jwksUrl: 'http://unused' }, verify);

  it('without a token: 401 problem+json with a Bearer challenge, no error code (RFC 6750 §3.1)', async () => {
    const result = await entra()(request(), 'eraseSubject', log);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.result.status).toBe(401);
    expect(result.result.headers['content-type']).toBe('application/problem+json');
    expect(result.result.headers['www-authenticate']).toBe('Bearer realm="sms-pipeline"');
    expect(JSON.parse(result.result.body!)).toMatchObject({ status: 401, type: expect.stringMatching(/unauthorized$/) });
    const basic = await entra()(request('Basic dXNlcjpwYXNz'), 'eraseSubject', log);
    expect(!basic.ok && basic.result.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('an expired token: 401 with error="invalid_token", and the token never reaches the log', async () => {
    const token = await issuer.mint({ app: 'a', roles: ['Subjects.Erase'], expiresIn: -3600 });
    const result = await entra()(request(`Bearer ${token}`), 'eraseSubject', log);
    expect(!result.ok && result.result.status).toBe(401);
    expect(!result.ok && result.result.headers['www-authenticate']).toMatch(
      /error="invalid_token", error_description="The token has expired."/,
    );
    expect(lines.join('\n')).not.toContain(token.split('.')[2]);
  });

  it('a valid token without the role: 403 naming the role; with it: the caller, its app and permissions', async () => {
    const sender = await issuer.mint({ app: 'app-booking', roles: ['Messages.Send'] });
    const refused = await entra()(request(`Bearer ${sender}`), 'eraseSubject', log);
    expect(!refused.ok && refused.result.status).toBe(403);
    expect(!refused.ok && JSON.parse(refused.result.body!)).toMatchObject({ requiredRole: 'Subjects.Erase', status: 403 });
    const eraser = await issuer.mint({ app: 'app-privacy', roles: ['Subjects.Erase', 'Not.Ours'] });
    const allowed = await entra()(request(`Bearer ${eraser}`), 'eraseSubject', log);
    expect(allowed.ok && allowed.caller).toEqual({ app: 'app-privacy', permissions: new Set(['Subjects.Erase']), via: 'entra' });
  });

  it('anonymous routes need nothing; keys mode lets every key holder do everything as the default app', async () => {
    for (const op of ANONYMOUS_OPERATIONS) expect((await entra()(request(), op, log)).ok).toBe(true);
    const keys = await callerResolver({ mode: 'keys' })(request(), 'eraseSubject', log);
    expect(keys.ok && keys.caller).toMatchObject({ app: 'default', via: 'key' });
    expect(keys.ok && [...keys.caller.permissions].sort()).toEqual([...PERMISSIONS].sort());
  });

  it('an operation the table does not name is refused to every caller, even in keys mode', async () => {
    const result = await callerResolver({ mode: 'keys' })(request(), 'someNewRoute', log);
    expect(!result.ok && result.result.status).toBe(403);
  });

  it("when Entra's keys cannot be fetched: 503 with Retry-After, not a 401 the caller would act on", async () => {
    const offline = callerResolver({
      mode: 'entra',
      issuers: [issuer.issuer],
      audiences: [issuer.audience],
      jwksUrl: 'http://127.0.0.1:9/keys',
    });
    const token = await issuer.mint({ app: 'a', roles: ['Subjects.Erase'] });
    const result = await offline(request(`Bearer ${token}`), 'eraseSubject', log);
    expect(!result.ok && result.result.status).toBe(503);
    expect(!result.ok && result.result.headers['retry-after']).toBe('5');
    expect(!result.ok && JSON.parse(result.result.body!)).toMatchObject({ dependency: 'identity' });
  });

  it('the host asks for no key when tokens alone are the proof', () => {
    expect(hostAuthLevel({ mode: 'entra', issuers: [], audiences: [], jwksUrl: '' }, 'function')).toBe('anonymous');
    expect(hostAuthLevel({ mode: 'both', issuers: [], audiences: [], jwksUrl: '' }, 'function')).toBe('function');
    expect(hostAuthLevel({ mode: 'keys' }, 'function')).toBe('function');
    expect(hostAuthLevel({ mode: 'entra', issuers: [], audiences: [], jwksUrl: '' }, 'anonymous')).toBe('anonymous');
  });
});

describe('the permission table', () => {
  it('gives every keyed route of the API a permission, and only the anonymous ones none', () => {
    for (const route of API_ROUTES) {
      const access = accessOf(route.operationId);
      if (route.auth === 'anonymous') expect(access, route.operationId).toEqual({ kind: 'anonymous' });
      else expect(access.kind, `${route.operationId} has no permission in shared/domain/access.ts`).toBe('permission');
    }
    // No stale entries: every entry is a route.
    const ids = new Set(API_ROUTES.map((r) => r.operationId));
    for (const op of Object.keys(OPERATION_PERMISSIONS)) expect(ids, op).toContain(op);
    for (const permission of Object.values(OPERATION_PERMISSIONS)) expect(PERMISSIONS).toContain(permission);
  });
});

describe('the AUTH_* settings', () => {
  const local = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    OUTBOUND_QUEUE_TRANSPORT: 'storage',
    ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
    SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
  };
  const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';

  it('default to function keys', () => {
    expect(loadConfig(local).auth).toEqual({ mode: 'keys' });
  });

  it('derive both issuers (v1.0, v2.0) and the key URL from the tenant', () => {
    expect(
      loadConfig({
        ...local,
        AUTH_MODE: 'entra',
        AUTH_TENANT_ID: tenant,
        AUTH_AUDIENCE: 'api://sms, 11111111-2222-3333-4444-555555555555',
      }).auth,
    ).toEqual({
      mode: 'entra',
      issuers: [`https://sts.windows.net/${tenant}/`, `https://login.microsoftonline.com/${tenant}/v2.0`],
      audiences: ['api://sms', '11111111-2222-3333-4444-555555555555'],
      jwksUrl: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
    });
  });

  it('name what is missing or wrong', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...local, ...env });
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
      return '';
    };
    expect(problems({ AUTH_MODE: 'entra' })).toMatch(/AUTH_TENANT_ID[\s\S]*AUTH_AUDIENCE is required/);
    expect(problems({ AUTH_MODE: 'tokens' })).toMatch(/AUTH_MODE must be keys, entra or both/);
    expect(problems({ AUTH_MODE: 'both', AUTH_TENANT_ID: 'contoso', AUTH_AUDIENCE: 'api://x' })).toMatch(
      /AUTH_TENANT_ID must be a tenant id/,
    );
    expect(problems({ AUTH_MODE: 'entra', AUTH_ISSUER: 'https://issuer.example/', AUTH_AUDIENCE: 'api://x' })).toMatch(
      /AUTH_JWKS_URL is required/,
    );
    expect(problems({ AUTH_MODE: 'entra', AUTH_TENANT_ID: tenant, AUTH_AUDIENCE: 'sms pipeline' })).toMatch(
      /AUTH_AUDIENCE .*neither an app ID URI/,
    );
    expect(problems({ AUTH_JWKS_URL: 'http://keys.example.com/keys' })).toMatch(/AUTH_JWKS_URL must be the JWKS URL, https/);
  });
});
