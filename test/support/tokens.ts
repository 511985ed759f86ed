// Bearer tokens for e2e tests that call the API as one app or another: minted by the stack's local
// test issuer (local/tokenIssuer.ts, `stack.tokens` when AUTH_MODE is entra or both), so the
// pipeline validates them with the same code as Entra ID's.
import type { TestStack } from './localStack.js';

export interface MintOptions {
  /** The calling app's client id: the token's azp, which the pipeline takes as caller.app. */
  app: string;
  /** App roles (Messages.Send, Messages.Read, …). */
  roles: string[];
}

/** A token of the stack's local issuer for `app` with `roles`. */
export async function mintToken(stack: TestStack, options: MintOptions): Promise<string> {
  if (!stack.tokens) throw new Error('the stack has no local token issuer: start it with AUTH_MODE entra or both');
  return stack.tokens.mint(options);
}

/** Request headers of a call as `app` with `roles`. */
export async function asApp(stack: TestStack, app: string, roles: string[]): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await mintToken(stack, { app, roles })}` };
}
