// Delivers the pipeline's events to one webhook URL: a CloudEvents batch (one JSON array per
// outbox message, `application/cloudevents-batch+json`), signed the Standard Webhooks way. A 2xx
// is success; any other answer, a redirect, a network error or a timeout throws, and the
// dispatcher retries this URL alone with backoff.
import { createHash } from 'node:crypto';
import type { PipelineEvent } from '../../domain/events.js';
import { parseWebhookSecrets, signWebhook, webhookMessageId } from '../../domain/webhookSignature.js';
import type { EventDestination } from '../../ports/events.js';
import { parseRetryAfter } from '../../lib/retryAfter.js';

/** The spec recommends 15-30 s for a receiver to answer. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
export const CLOUDEVENTS_BATCH = 'application/cloudevents-batch+json';

/** A delivery that did not succeed; carries the receiver's Retry-After, when it gave one. */
export class WebhookDeliveryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

export interface WebhookOptions {
  url: string;
  /** STATUS_WEBHOOK_SECRET as configured (validated by config.ts). */
  secret: string;
  /** Only these event types are sent; all when absent. */
  types?: readonly string[];
  /** Only this app's events are sent (an app's own webhook, SMS_APPS); every app's when absent. */
  app?: string;
  timeoutMs?: number;
  /** Seconds since the epoch, for the webhook-timestamp header (tests move it). */
  now?: () => number;
  /** For tests: fetch stand-in. */
  fetch?: typeof fetch;
}

/**
 * The destination name of a webhook: stable for a URL (a retry names the URL it is for) and free
 * of the URL itself, which may carry a token and ends up in logs and in the poison queue.
 */
export function webhookName(url: string): string {
  return `webhook:${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}

export class WebhookDestination implements EventDestination {
  readonly name: string;
  readonly types?: ReadonlySet<string>;
  readonly app?: string;
  private readonly keys: Buffer[];

  constructor(private readonly options: WebhookOptions) {
    // An app's webhook is named apart from a global one at the same URL: a retry names the one it is for.
    this.name = webhookName(options.app === undefined ? options.url : `${options.app}\n${options.url}`);
    if (options.types) this.types = new Set(options.types);
    if (options.app !== undefined) this.app = options.app;
    const parsed = parseWebhookSecrets(options.secret);
    if (!parsed.ok) throw new Error(`STATUS_WEBHOOK_SECRET ${parsed.reason}`);
    this.keys = parsed.keys;
  }

  async deliver(events: readonly PipelineEvent[]): Promise<void> {
    if (events.length === 0) return;
    const body = JSON.stringify(events);
    const id = webhookMessageId(events);
    // The timestamp is the attempt's, not the events': receivers refuse old ones (replays), so
    // a retry hours later must still pass.
    const timestamp = Math.floor(this.options.now ? this.options.now() : Date.now() / 1000);
    const doFetch = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': `${CLOUDEVENTS_BATCH}; charset=utf-8`,
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(this.keys, id, timestamp, body),
          'user-agent': 'azure-sms-pipeline-webhooks/1',
        },
        body,
        // The spec counts a 3xx as a failure: the URL should be updated rather than followed.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
      });
    } catch (error) {
      // Never the URL in the message: it may hold a token. The destination name says which one.
      throw new WebhookDeliveryError(`${this.name}: ${describeFetchError(error)}`);
    }
    // Read (and drop) the body so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return;
    throw new WebhookDeliveryError(
      `${this.name} answered HTTP ${response.status}`,
      response.status,
      parseRetryAfter(response.headers.get('retry-after')),
    );
  }
}

function describeFetchError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer within the timeout';
  const code = e?.cause?.code;
  return code ? `connection failed (${code})` : `request failed (${e?.name ?? 'error'})`;
}
