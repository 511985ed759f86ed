// Bearer tokens for e2e tests that call the API as one app or another (test/e2e/apps.test.ts).
//
// TODO(lead, issue 24): this delegates to the local test issuer the authentication half brings
// (branch `auth`: local/tokenIssuer.ts, exposed as `stack.tokens` when AUTH_MODE is entra or
// both). Until that is merged the stack has no issuer, and this throws: nothing here makes a
// request count as an app, so the tests that need it fail rather than pass for the wrong reason.
import type { TestStack } from './localStack.js';

export interface MintOptions {
  /** The calling app's client id: the token's azp, which the pipeline takes as caller.app. */
  app: string;
  /** App roles (Messages.Send, Messages.Read, …). */
  roles: string[];
}

interface Issuer {
  mint(options: MintOptions): Promise<string>;
}

/** A token of the stack's local issuer for `app` with `roles`. */
export async function mintToken(stack: TestStack, options: MintOptions): Promise<string> {
  const issuer = (stack as TestStack & { tokens?: Issuer }).tokens;
  if (!issuer)
    throw new Error(
      'TODO(lead): the stack has no local token issuer yet (start it with AUTH_MODE=entra once the authentication half of issue 24 is merged)',
    );
  return issuer.mint(options);
}

/** Request headers of a call as `app` with `roles`. */
export async function asApp(stack: TestStack, app: string, roles: string[]): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await mintToken(stack, { app, roles })}` };
}
