// Entra ID callers end to end (docs/security.md): a stack with AUTH_MODE=entra, whose tokens come
// from the local test issuer (local/tokenIssuer.ts) and are checked by the same code as in Azure.
// No token, an expired one, one for another audience or with a forged signature: 401
// problem+json. A valid token without the route's role: 403. With it: the work is done, and the
// app the token names is the one the handler works for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

let stack: TestStack;
const handset = '+14255550142';

beforeAll(async () => {
  stack = await startTestStack({ env: { AUTH_MODE: 'entra' } });
});

afterAll(async () => {
  await stack?.stop();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const tokens = () => stack.tokens!;

async function expectProblem(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as { type: string; status: number; detail: string; requiredRole?: string };
  expect(body.status).toBe(status);
  return body;
}

describe('with AUTH_MODE=entra', () => {
  it('refuses a send without a token, with an expired one, another audience or a forged signature: 401, nothing sent', async () => {
    const message = { to: handset, message: 'Should never be sent' };
    const noToken = await stack.postMessages(message);
    expect((await expectProblem(noToken, 401)).type).toMatch(/\/unauthorized$/);
    expect(noToken.headers.get('www-authenticate')).toBe('Bearer realm="sms-pipeline"');

    const cases = [
      { token: await tokens().mint({ app: 'app-booking', roles: ['Messages.Send'], expiresIn: -600 }), reason: /expired/ },
      {
        token: await tokens().mint({ app: 'app-booking', roles: ['Messages.Send'], audience: 'api://another-api' }),
        reason: /another audience/,
      },
      { token: await tokens().mint({ app: 'app-booking', roles: ['Messages.Send'], forged: true }), reason: /signature/ },
    ];
    for (const { token, reason } of cases) {
      const response = await stack.postMessages(message, bearer(token));
      expect((await expectProblem(response, 401)).detail).toMatch(reason);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="sms-pipeline", error="invalid_token"/);
    }
    // A function key is no token: with tokens alone, the key proves nothing.
    await expectProblem(await stack.postMessages(message, { 'x-functions-key': 'any-key' }), 401);
    expect(stack.logs.join('\n')).not.toContain(cases[0]!.token.split('.')[2]!);
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.emulator.inbox(handset)).toHaveLength(0);
  });

  it('lets an app with Messages.Send send, and the message goes out', async () => {
    const token = await tokens().mint({ app: 'app-booking', roles: ['Messages.Send'] });
    const response = await stack.postMessages({ to: handset, message: 'Your table is booked for 8pm' }, bearer(token));
    expect(response.status).toBe(202);
    await waitFor(
      async () => (stack.emulator.inbox(handset).length === 1 ? true : undefined),
      20_000,
      'the message in the inbox',
    );
  });

  it('a valid token without Subjects.Erase gets 403 on erasure, naming the role; the data stays', async () => {
    const token = await tokens().mint({ app: 'app-booking', roles: ['Messages.Send', 'Messages.Read'] });
    const response = await stack.api(`subjects/${encodeURIComponent(handset)}`, { method: 'DELETE', headers: bearer(token) });
    const body = await expectProblem(response, 403);
    expect(body).toMatchObject({ requiredRole: 'Subjects.Erase' });
    expect(body.detail).toMatch(/app-booking lacks the app role Subjects\.Erase/);
    expect(stack.logs.some((l) => l.includes('subject erased'))).toBe(false);
  });

  it('a valid token with Subjects.Erase erases; the handler works for the app the token names', async () => {
    const token = await tokens().mint({ app: 'app-privacy-desk', roles: ['Subjects.Erase'], version: 1 });
    const response = await stack.api(`subjects/${encodeURIComponent(handset)}`, { method: 'DELETE', headers: bearer(token) });
    expect(response.status).toBe(200);
    const erased = await waitFor(
      async () => stack.logs.find((l) => l.includes('subject erased')),
      5_000,
      'the erasure in the log',
    );
    // The app id comes from the v1.0 token's appid claim and reaches the use case's log.
    expect(erased).toContain('"callerApp":"app-privacy-desk"');
  });

  it('keeps health, the OpenAPI document and short links anonymous', async () => {
    expect((await stack.api('health')).status).toBe(200);
    expect((await stack.api('openapi.json')).status).toBe(200);
  });
});
