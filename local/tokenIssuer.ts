// The local test issuer: plays Microsoft Entra ID's part for the pipeline's API, so the same token
// validation (shared/adapters/auth/entraTokens.ts) runs locally and in tests as in Azure. It has
// an RS256 key pair, serves the public key as a JWKS, as Entra does at
// https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys, and mints access tokens with the
// claims Entra puts in an app's token for an API
// (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference): iss, aud,
// exp, nbf, iat, roles, and azp (v2.0) or appid (v1.0) naming the calling app.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/** The issuer (iss) of local tokens: a name, never fetched (.invalid does not resolve). */
export const LOCAL_ISSUER = 'https://local-issuer.invalid/sms-pipeline/v2.0';
/** The audience (aud) of local tokens: the pipeline's app ID URI locally. */
export const LOCAL_AUDIENCE = 'api://sms-pipeline-local';

export interface MintOptions {
  /** The calling app's client id (azp, or appid in a v1.0 token). */
  app: string;
  roles?: string[];
  audience?: string;
  issuer?: string;
  /** Seconds until exp (negative: already expired). Default 3600. */
  expiresIn?: number;
  /** Seconds until nbf (positive: not valid yet). Default 0. */
  notBefore?: number;
  /** 1: the app is in appid (v1.0 tokens); 2: in azp. Default 2. */
  version?: 1 | 2;
  /** Sign with a key the JWKS does not publish, under the published kid: a forged signature. */
  forged?: boolean;
}

interface KeyPairJson {
  kid: string;
  privateJwk: JWK;
}

export interface LocalTokenIssuer {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** How many times the JWKS was fetched. */
  readonly keyFetches: number;
  mint(options: MintOptions): Promise<string>;
  /** A new signing key (new kid), published from now on alongside the old one. */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

async function newKey(): Promise<KeyPairJson> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid: randomUUID(), privateJwk: await exportJWK(privateKey) };
}

const publicOf = ({ kid, privateJwk }: KeyPairJson): JWK => ({
  kty: privateJwk.kty,
  n: privateJwk.n,
  e: privateJwk.e,
  kid,
  use: 'sig',
  alg: 'RS256',
});

/** Signs a token as the issuer would; also used by `npm run token` with the key the stack saved. */
export async function mintToken(key: KeyPairJson, options: MintOptions & { issuer: string; audience: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const signer = options.forged ? (await newKey()).privateJwk : key.privateJwk;
  const claims: Record<string, unknown> = {
    roles: options.roles ?? [],
    tid: '00000000-0000-0000-0000-00000000000a',
    oid: randomUUID(),
    ver: options.version === 1 ? '1.0' : '2.0',
    [options.version === 1 ? 'appid' : 'azp']: options.app,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.app)
    .setIssuedAt(now)
    .setNotBefore(now + (options.notBefore ?? 0))
    .setExpirationTime(now + (options.expiresIn ?? 3600))
    .sign(await importJWK(signer, 'RS256'));
}

/**
 * Starts the issuer's key endpoint on 127.0.0.1 (port 0: any free one). With `keyFile`, the key is
 * kept there (created when missing), with the issuer and audience, so `npm run token` can mint
 * tokens for a running `npm start`.
 */
export async function startTokenIssuer(
  options: { port?: number; keyFile?: string; issuer?: string; audience?: string } = {},
): Promise<LocalTokenIssuer> {
  const issuer = options.issuer ?? LOCAL_ISSUER;
  const audience = options.audience ?? LOCAL_AUDIENCE;
  const saved =
    options.keyFile && existsSync(options.keyFile)
      ? (JSON.parse(readFileSync(options.keyFile, 'utf8')) as KeyPairJson)
      : undefined;
  const keys: KeyPairJson[] = [saved ?? (await newKey())];
  const save = () => {
    if (options.keyFile) writeFileSync(options.keyFile, JSON.stringify({ ...keys.at(-1), issuer, audience }), { mode: 0o600 });
  };
  save();
  let keyFetches = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/discovery/v2.0/keys') {
      keyFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys.map(publicOf) }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    issuer,
    audience,
    jwksUrl: `http://127.0.0.1:${port}/discovery/v2.0/keys`,
    get keyFetches() {
      return keyFetches;
    },
    mint: (mint) => mintToken(keys.at(-1)!, { issuer, audience, ...mint }),
    async rotate() {
      keys.push(await newKey());
      save();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Reads what `startTokenIssuer({ keyFile })` saved: the signing key, issuer and audience. */
export function readIssuerFile(file: string): KeyPairJson & { issuer: string; audience: string } {
  return JSON.parse(readFileSync(file, 'utf8')) as KeyPairJson & { issuer: string; audience: string };
}
