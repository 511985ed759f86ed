// Who calls the HTTP API, and whether they may call this operation (docs/security.md):
//   keys   the Functions host checked the function key before the worker saw the request; a
//          Node.js worker is not told which key (the host's key identity, claim
//          http://schemas.microsoft.com/2017/07/functions/claims/keyid, stays in the host — the
//          @azure/functions HttpRequest carries only headers, and its `user` is App Service/Static
//          Web Apps authentication), so every key holder is the default app with every permission.
//   entra  an Entra ID bearer token (RFC 6750) with app roles; routes need no function key.
//   both   the host asks for a function key and the pipeline for a token.
// Which permission each operation needs is shared/domain/access.ts.
import type { HttpRequest } from '@azure/functions';
import { ANONYMOUS_CALLER, accessOf, permissionsOf } from '../../domain/access.js';
import { PERMISSIONS, UNRESTRICTED_CALLER, type Caller } from '../../domain/caller.js';
import { problem, type HttpResult } from '../../http/problem.js';
import type { Logger } from '../../ports/runtime.js';
import type { AuthConfig } from '../../settingsAuth.js';
import { entraTokenVerifier, type TokenVerifier } from '../auth/entraTokens.js';

export type CallerResolver = (
  request: HttpRequest,
  operation: string,
  log: Logger,
) => Promise<{ ok: true; caller: Caller } | { ok: false; result: HttpResult }>;

/** The key-holding caller: today's behaviour, the default app with every permission. */
const KEY_CALLER: Caller = { ...UNRESTRICTED_CALLER, via: 'key' };

/** RFC 6750 §3: a 401 names the scheme; with a token that was presented, error="invalid_token". */
const challenge = (reason?: string) =>
  reason
    ? `Bearer realm="sms-pipeline", error="invalid_token", error_description="${reason.replace(/["\\]/g, '')}"`
    : 'Bearer realm="sms-pipeline"';

function unauthorized(detail: string, reason?: string): { ok: false; result: HttpResult } {
  return { ok: false, result: problem('unauthorized', detail, { headers: { 'www-authenticate': challenge(reason) } }) };
}

export function callerResolver(auth: AuthConfig, verify?: TokenVerifier): CallerResolver {
  const verifyToken = auth.mode === 'keys' ? undefined : (verify ?? entraTokenVerifier(auth));
  return async (request, operation, log) => {
    const access = accessOf(operation);
    if (access.kind === 'anonymous') return { ok: true, caller: ANONYMOUS_CALLER };
    if (access.kind === 'unknown') {
      // A new route nobody gave a permission: refused to all, and named in the log.
      log.error('operation has no permission in shared/domain/access.ts', { operation });
      return { ok: false, result: problem('forbidden', `The operation ${operation} is not open to any caller.`) };
    }
    if (!verifyToken) return { ok: true, caller: KEY_CALLER };

    const header = request.headers.get('authorization') ?? '';
    const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match) {
      return unauthorized(
        header
          ? 'The Authorization header is not "Bearer <token>".'
          : 'Send an Entra ID access token for this API: Authorization: Bearer <token> (docs/security.md).',
        header ? 'The Authorization header is not a bearer token.' : undefined,
      );
    }
    const verified = await verifyToken(match[1]!);
    if (!verified.ok) {
      if (verified.outage) {
        log.warn('token signing keys unavailable', { error: verified.reason });
        return {
          ok: false,
          result: problem(
            'unavailable',
            "The issuer's signing keys could not be fetched, so the token could not be checked; nothing was changed.",
            {
              headers: { 'retry-after': '5' },
              dependency: 'identity',
            },
          ),
        };
      }
      // The reason only: never the token.
      log.info('token refused', { operation, reason: verified.reason });
      return unauthorized(verified.reason, verified.reason);
    }
    const caller: Caller = { app: verified.app, permissions: permissionsOf(verified.roles, PERMISSIONS), via: 'entra' };
    if (!caller.permissions.has(access.permission)) {
      return {
        ok: false,
        result: problem('forbidden', `The app ${caller.app} lacks the app role ${access.permission}, which ${operation} needs.`, {
          headers: { 'www-authenticate': `Bearer realm="sms-pipeline", error="insufficient_scope"` },
          requiredRole: access.permission,
        }),
      };
    }
    return { ok: true, caller };
  };
}

/** The host's auth level of a route in this mode: with tokens alone, the host asks for no key. */
export function hostAuthLevel(auth: AuthConfig, declared: 'anonymous' | 'function' | 'admin' | undefined) {
  return auth.mode === 'entra' && declared === 'function' ? 'anonymous' : declared;
}
