// Starts the whole local stack for a test file — Azurite in memory, the ACS emulator and the
// function host in its own process — on free ports, and helps tests wait for what they expect.
// TEST_OUTBOUND_QUEUE_TRANSPORT=servicebus runs every stack on the Service Bus transport (the
// stand-in) instead of the sample settings' Storage queue (`npm run test:e2e:servicebus`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The sample settings: what a new user runs with, independent of any local.settings.json. */
export function sampleSettings(): Record<string, string> {
  const sample = JSON.parse(readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  return { ...sample.Values };
}

/** The outbound queue transport the tests run on: the sample's, unless TEST_OUTBOUND_QUEUE_TRANSPORT says otherwise. */
export function testTransport(): Record<string, string> {
  const transport = process.env.TEST_OUTBOUND_QUEUE_TRANSPORT;
  if (!transport) return {};
  if (transport !== 'servicebus' && transport !== 'storage') {
    throw new Error(`TEST_OUTBOUND_QUEUE_TRANSPORT must be "servicebus" or "storage", got "${transport}"`);
  }
  return { OUTBOUND_QUEUE_TRANSPORT: transport };
}

export interface TestStack extends LocalStack {
  /** Log lines of every part, for assertions and for debugging a failure. */
  logs: string[];
  api(pathname: string, init?: RequestInit): Promise<Response>;
  postMessages(body: unknown, headers?: Record<string, string>): Promise<Response>;
}

export async function startTestStack(options: Partial<LocalStackOptions> = {}): Promise<TestStack> {
  const logs: string[] = [];
  const stack = await startLocalStack({
    root,
    settings: { ...sampleSettings(), ...testTransport() },
    hostPort: 0,
    emulatorPort: 0,
    azurite: {},
    log: (line) => {
      logs.push(line);
      if (process.env.STACK_LOGS) console.log(line);
    },
    ...options,
  });
  const api = (pathname: string, init?: RequestInit) => fetch(`${stack.hostUrl}/api/${pathname.replace(/^\//, '')}`, init);
  return Object.assign(stack, {
    logs,
    api,
    postMessages: (body: unknown, headers: Record<string, string> = {}) =>
      api('messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
  });
}

/** Polls `probe` until it returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
