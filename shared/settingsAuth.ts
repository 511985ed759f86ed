// Who may call the HTTP API (docs/security.md): function keys, Entra ID bearer tokens, or both.
// Part of settingsSchema (settings.ts) like every other setting; authOf turns them into the
// configuration shared/adapters/functions/callers.ts uses.
import { z } from 'zod';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const httpsUrl = (what: string) =>
  z
    .string()
    .trim()
    .url(`must be the ${what} URL`)
    .refine((u) => /^https:\/\//i.test(u) || /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//i.test(u), {
      message: `must be the ${what} URL, https (http only for 127.0.0.1 or localhost)`,
    });

export const authSettings = {
  /**
   * How callers prove who they are: "keys" (a function key; every key holder is the default app
   * with every permission), "entra" (an Entra ID bearer token with app roles; routes take no key),
   * "both" (the host asks for a function key and the pipeline for a token: defence in depth).
   */
  AUTH_MODE: z.enum(['keys', 'entra', 'both'], { message: 'must be keys, entra or both' }).default('keys'),
  /** The Entra ID tenant (directory) id whose tokens are accepted; gives the issuers and the keys' URL. */
  AUTH_TENANT_ID: z.string().trim().regex(GUID, 'must be a tenant id (a GUID)').optional(),
  /** The issuer (iss) tokens must carry, when not one of the tenant's (the local test issuer). */
  AUTH_ISSUER: httpsUrl('issuer').optional(),
  /**
   * The audiences (aud) a token may be for, comma separated: the pipeline's app ID URI
   * ("api://sms-pipeline-…", in v1.0 tokens) and its client id (in v2.0 tokens).
   */
  AUTH_AUDIENCE: z
    .string()
    .transform((text, ctx) => {
      const list = text
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean);
      if (list.length === 0 || list.length > 5) ctx.addIssue({ code: 'custom', message: 'must name 1 to 5 audiences' });
      for (const a of list)
        if (!GUID.test(a) && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(a))
          ctx.addIssue({ code: 'custom', message: `"${a.slice(0, 60)}" is neither an app ID URI (api://…) nor a client id` });
      return list;
    })
    .optional(),
  /** Where the issuer's signing keys (JWKS) are; default the tenant's (login.microsoftonline.com/<tenant>/discovery/v2.0/keys). */
  AUTH_JWKS_URL: httpsUrl('JWKS').optional(),
};

export type AuthConfig = { mode: 'keys' } | { mode: 'entra' | 'both'; issuers: string[]; audiences: string[]; jwksUrl: string };

type AuthSettings = z.output<ReturnType<typeof z.object<typeof authSettings>>>;

/** The auth configuration, or the problems that stop start-up. */
export function authOf(s: AuthSettings): { auth: AuthConfig; problems: string[] } {
  if (s.AUTH_MODE === 'keys') return { auth: { mode: 'keys' }, problems: [] };
  const problems: string[] = [];
  // The issuers of a tenant's access tokens: "https://sts.windows.net/<tid>/" for v1.0 tokens and
  // "https://login.microsoftonline.com/<tid>/v2.0" for v2.0 ones, which one depending on the API's
  // requestedAccessTokenVersion; both are signed with the keys at /discovery/v2.0/keys
  // (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference, "iss").
  const tenant = s.AUTH_TENANT_ID;
  const issuers = s.AUTH_ISSUER
    ? [s.AUTH_ISSUER]
    : tenant
      ? [`https://sts.windows.net/${tenant}/`, `https://login.microsoftonline.com/${tenant}/v2.0`]
      : [];
  const jwksUrl = s.AUTH_JWKS_URL ?? (tenant ? `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys` : undefined);
  if (issuers.length === 0) problems.push(`AUTH_TENANT_ID (or AUTH_ISSUER) is required when AUTH_MODE is ${s.AUTH_MODE}`);
  if (!jwksUrl) problems.push(`AUTH_JWKS_URL is required with AUTH_ISSUER and no AUTH_TENANT_ID`);
  if (!s.AUTH_AUDIENCE)
    problems.push(
      `AUTH_AUDIENCE is required when AUTH_MODE is ${s.AUTH_MODE}: the pipeline's app ID URI or client id (node infra/hooks/appRegistration.mjs writes it)`,
    );
  if (problems.length > 0 || !jwksUrl || !s.AUTH_AUDIENCE) return { auth: { mode: 'keys' }, problems };
  return { auth: { mode: s.AUTH_MODE, issuers, audiences: s.AUTH_AUDIENCE, jwksUrl }, problems };
}
