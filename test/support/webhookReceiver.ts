// What an app receiving the pipeline's webhooks does, written independently of the pipeline's
// code: a Standard Webhooks verifier (as the spec and its reference libraries describe it) and a
// node:http receiver that verifies every request and records what it got.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Standard Webhooks verification: the key is the base64 after "whsec_" (or the raw bytes of any
 * other secret), the signed content is "<webhook-id>.<webhook-timestamp>.<raw body>", the header
 * lists "v1,<base64>" signatures separated by spaces, one match suffices, and the timestamp must
 * be within 5 minutes of now.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: Record<string, string | undefined>,
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Verdict {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing headers' };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'bad timestamp' };
  if (Math.abs(nowSeconds - Number(timestamp)) > 300) return { ok: false, reason: 'timestamp outside tolerance' };
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest();
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',');
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no matching signature' };
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
  verdict: Verdict;
  /** The CloudEvents of the batch, when the body parsed. */
  events: Array<{ id: string; type: string; subject: string; time: string; source: string; data: Record<string, unknown> }>;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests answered 2xx. */
  accepted(): ReceivedRequest[];
  /** Answer with this status (e.g. 500) until set back to 200. */
  answer: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string, path = '/sms-events'): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const receiver = {
    url: '',
    requests,
    answer: 200,
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    close: async () => undefined,
  } as WebhookReceiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
      const verdict = verifyStandardWebhook(secret, headers, body);
      let events: ReceivedRequest['events'] = [];
      try {
        const parsed = JSON.parse(body) as unknown;
        if (Array.isArray(parsed)) events = parsed as ReceivedRequest['events'];
      } catch {
        // recorded with no events
      }
      const status = req.method !== 'POST' || req.url !== path ? 404 : !verdict.ok ? 401 : receiver.answer;
      requests.push({ headers: req.headers, body, status, verdict, events });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
