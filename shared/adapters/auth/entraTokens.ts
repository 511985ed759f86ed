// Validates Microsoft Entra ID access tokens (JWT) for the pipeline's API with `jose`: signature
// against the issuer's published keys (JWKS), algorithm, issuer, audience, expiry and not-before.
// What Microsoft says an API must check, and which claims carry what:
// https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference and
// https://learn.microsoft.com/entra/identity-platform/access-tokens ("Validate tokens").
//   - alg: Entra signs access tokens with RS256; nothing else (HS256, "none") is accepted.
//   - kid: the key among the issuer's keys; keys roll over, so an unknown kid fetches the keys again
//     (at most once per cooldown, so a stream of made-up kids cannot hammer the key endpoint).
//   - iss, aud, exp, nbf: checked, with a small allowance for clocks that differ.
//   - roles: the app roles assigned to the calling app (or user) for this API.
//   - azp (v2.0 tokens) / appid (v1.0 tokens): the client id of the calling application.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

/** Clocks of the issuer and this app may differ a little: exp and nbf get this much leeway. */
export const CLOCK_SKEW_SECONDS = 60;

export interface TokenVerifierOptions {
  issuers: string[];
  audiences: string[];
  jwksUrl: string;
  /** After a successful key fetch, how long before an unknown kid may fetch again (default 30 s). */
  refetchCooldownMs?: number;
  /** How long fetched keys are used before they are fetched again (default 10 min). */
  keysMaxAgeMs?: number;
}

/** A token that proved who sent it: the app it was issued to, and its roles. */
export interface VerifiedToken {
  app: string;
  roles: string[];
}

/** Why a token was not accepted, in words for the 401's detail (never the token itself). */
export type TokenRejection = { ok: false; outage: false; reason: string } | { ok: false; outage: true; reason: string };

export type TokenVerifier = (token: string) => Promise<({ ok: true } & VerifiedToken) | TokenRejection>;

export function entraTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: options.refetchCooldownMs ?? 30_000,
    cacheMaxAge: options.keysMaxAgeMs ?? 10 * 60_000,
    timeoutDuration: 5_000,
  });
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        issuer: options.issuers,
        audience: options.audiences,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      return rejection(error);
    }
    const app = typeof payload.azp === 'string' ? payload.azp : typeof payload.appid === 'string' ? payload.appid : undefined;
    if (!app) return { ok: false, outage: false, reason: 'The token names no calling application (azp or appid).' };
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    return { ok: true, app, roles };
  };
}

function rejection(error: unknown): TokenRejection {
  const no = (reason: string): TokenRejection => ({ ok: false, outage: false, reason });
  if (error instanceof errors.JWTExpired) return no('The token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return no('The token is for another audience than this API.');
    if (error.claim === 'iss') return no('The token is from an issuer this API does not trust.');
    if (error.claim === 'nbf') return no('The token is not valid yet.');
    return no(`The token's "${error.claim}" claim is not acceptable.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return no('The token is not signed with RS256.');
  if (error instanceof errors.JWSSignatureVerificationFailed) return no('The token signature is not valid.');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return no("The token is signed with a key that is not among the issuer's keys.");
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported)
    return no('The bearer token is not a well-formed signed JWT.');
  // The keys could not be fetched (timeout, refused, not 200, not a key set): not the caller's fault.
  return { ok: false, outage: true, reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown error' };
}
