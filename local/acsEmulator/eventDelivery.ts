// Event Grid push delivery to webhook subscribers: the validation handshake, one event per POST
// with `aeg-*` headers, and retries with backoff except where Event Grid never retries.
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { subscriptionValidationEvent, type EventGridEvent } from './events.js';
import type { EventGridSettings } from './settings.js';
import type { WorkTracker } from './workTracker.js';

export interface SubscriberInfo {
  url: string;
  /** Sent as aeg-subscription-name. */
  name: string;
  /** True when the subscriber passed the validation handshake. */
  validated: boolean;
  /** Event types delivered to it (Event Grid's includedEventTypes); absent = all. */
  eventTypes?: string[];
  addedAt: string;
}

export interface DeliveryLogEntry {
  eventId: string;
  eventType: string;
  url: string;
  attempts: number;
  status: 'pending' | 'delivered' | 'failed';
  /** Last HTTP status, or the connection error. */
  lastResult?: number | string;
}

interface Subscriber {
  info: SubscriberInfo;
  /**
   * First attempts waiting their turn. With maxConcurrentDeliveries 1 (the default) they run one
   * after the other, so a healthy subscriber sees events in publish order.
   */
  waiting: Array<() => Promise<void>>;
  active: number;
  removed: boolean;
}

const NEVER_RETRIED = new Set([400, 401, 403, 413]);
const MAX_LOG = 5000;
/** How long a subscriber that answered the handshake without a code has to GET the validationUrl. */
const MANUAL_VALIDATION_MS = 5000;

export interface SubscriberOptions {
  /** Perform the SubscriptionValidation handshake first (default true). */
  validate?: boolean;
  /** Sent as aeg-subscription-name; defaults to EMULATOR-SUBSCRIPTION-<n>. */
  name?: string;
  /** Deliver only these event types (Event Grid's includedEventTypes filter). */
  eventTypes?: string[];
}

type PostResult = { status: number; body: string } | { error: string };

export class EventGridDelivery {
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly inflight = new Set<ClientRequest>();
  private readonly manualValidations = new Map<string, () => void>();
  private readonly deliveryLog: DeliveryLogEntry[] = [];
  private closed = false;
  private counter = 0;
  /** Bumped by cancelPending(): queued deliveries of an older epoch are dropped. */
  private epoch = 0;

  constructor(
    private readonly deps: {
      settings: () => EventGridSettings;
      work: WorkTracker;
      log: (line: string) => void;
      /** The URL a subscriber may GET to validate by hand (Event Grid's validationUrl). */
      validationUrl: (code: string) => string;
    },
  ) {}

  list(): SubscriberInfo[] {
    return [...this.subscribers.values()].map((s) => structuredClone(s.info));
  }

  deliveries(): DeliveryLogEntry[] {
    return this.deliveryLog.map((d) => ({ ...d }));
  }

  /**
   * Adds a webhook subscriber. With `validate`, it first sends the SubscriptionValidation event
   * and requires `{ "validationResponse": <code> }` back (or a GET of the validationUrl), like
   * Event Grid when a subscription is created; a failed handshake rejects and adds nothing.
   */
  async addSubscriber(url: string, options: SubscriberOptions = {}): Promise<SubscriberInfo> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`subscriber url "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`subscriber url "${url}" must be http or https`);
    const validate = options.validate ?? true;
    if (validate) await this.handshake(url);
    const existing = this.subscribers.get(url);
    if (existing) existing.removed = true;
    const info: SubscriberInfo = {
      url,
      name: options.name ?? `EMULATOR-SUBSCRIPTION-${++this.counter}`,
      validated: validate,
      ...(options.eventTypes ? { eventTypes: [...options.eventTypes] } : {}),
      addedAt: new Date().toISOString(),
    };
    this.subscribers.set(url, { info, waiting: [], active: 0, removed: false });
    this.deps.log(`event grid: subscriber ${url} added${validate ? ' (validated)' : ''}`);
    return structuredClone(info);
  }

  removeSubscriber(url: string): boolean {
    const sub = this.subscribers.get(url);
    if (!sub) return false;
    sub.removed = true;
    this.subscribers.delete(url);
    return true;
  }

  /** Completes a manual validation (GET on the validationUrl). */
  confirmManualValidation(code: string): boolean {
    const resolve = this.manualValidations.get(code);
    if (!resolve) return false;
    resolve();
    return true;
  }

  /** Queues an event for every current subscriber. */
  publish(event: EventGridEvent): void {
    if (this.closed) return;
    for (const sub of this.subscribers.values()) {
      if (sub.info.eventTypes && !sub.info.eventTypes.includes(event.eventType)) continue;
      const entry: DeliveryLogEntry = {
        eventId: event.id,
        eventType: event.eventType,
        url: sub.info.url,
        attempts: 0,
        status: 'pending',
      };
      this.deliveryLog.push(entry);
      if (this.deliveryLog.length > MAX_LOG) this.deliveryLog.splice(0, this.deliveryLog.length - MAX_LOG);
      const end = this.deps.work.begin();
      const epoch = this.epoch;
      sub.waiting.push(() => this.attempt(sub, event, entry, 1, end, epoch));
      this.pump(sub);
    }
  }

  /** Starts waiting first attempts while the subscriber has fewer than maxConcurrentDeliveries in flight. */
  private pump(sub: Subscriber): void {
    const limit = Math.max(1, this.deps.settings().maxConcurrentDeliveries);
    while (sub.active < limit && sub.waiting.length > 0) {
      const next = sub.waiting.shift()!;
      sub.active++;
      void next().finally(() => {
        sub.active--;
        this.pump(sub);
      });
    }
  }

  /** Drops queued deliveries and aborts in-flight ones (emulator reset); subscribers stay. */
  cancelPending(): void {
    this.epoch++;
    for (const req of this.inflight) req.destroy();
    this.inflight.clear();
  }

  /** Aborts in-flight deliveries and refuses new ones. Timers belong to the WorkTracker. */
  close(): void {
    this.closed = true;
    for (const req of this.inflight) req.destroy();
    this.inflight.clear();
    for (const resolve of this.manualValidations.values()) resolve();
    this.manualValidations.clear();
  }

  private async attempt(
    sub: Subscriber,
    event: EventGridEvent,
    entry: DeliveryLogEntry,
    attempt: number,
    end: () => void,
    epoch: number,
  ): Promise<void> {
    if (this.closed || sub.removed || epoch !== this.epoch) {
      entry.status = 'failed';
      entry.lastResult = sub.removed ? 'subscriber removed' : 'cancelled';
      end();
      return;
    }
    const settings = this.deps.settings();
    entry.attempts = attempt;
    const result = await this.post(
      sub.info.url,
      [event],
      {
        'aeg-event-type': 'Notification',
        'aeg-subscription-name': sub.info.name,
        'aeg-delivery-count': String(attempt - 1),
        'aeg-data-version': event.dataVersion,
        'aeg-metadata-version': event.metadataVersion,
      },
      settings.requestTimeoutMs,
    );
    if ('status' in result && result.status >= 200 && result.status < 300) {
      entry.status = 'delivered';
      entry.lastResult = result.status;
      end();
      return;
    }
    entry.lastResult = 'status' in result ? result.status : result.error;
    const permanent = 'status' in result && NEVER_RETRIED.has(result.status);
    if (permanent || attempt >= settings.maxAttempts || this.closed || epoch !== this.epoch) {
      entry.status = 'failed';
      this.deps.log(
        `event grid: gave up on ${event.eventType} ${event.id} to ${sub.info.url} after ${attempt} attempt(s): ${entry.lastResult}`,
      );
      end();
      return;
    }
    const backoff = settings.retryBaseMs * 2 ** (attempt - 1);
    // Retries run beside the first attempts, so one failing event does not hold back the next ones.
    this.deps.work.schedule(() => {
      void this.attempt(sub, event, entry, attempt + 1, end, epoch);
    }, backoff);
  }

  private async handshake(url: string): Promise<void> {
    const code = randomUUID();
    const event = subscriptionValidationEvent(this.deps.settings().topic, code, this.deps.validationUrl(code));
    const manual = new Promise<void>((resolve) => this.manualValidations.set(code, resolve));
    try {
      const result = await this.post(
        url,
        [event],
        { 'aeg-event-type': 'SubscriptionValidation', 'aeg-delivery-count': '0' },
        this.deps.settings().requestTimeoutMs,
      );
      if ('error' in result) throw new Error(`subscription validation of ${url} failed: ${result.error}`);
      if (result.status < 200 || result.status >= 300) {
        throw new Error(`subscription validation of ${url} failed: the endpoint answered ${result.status}`);
      }
      let answered: unknown;
      try {
        answered =
          result.body.trim() === ''
            ? undefined
            : (JSON.parse(result.body) as { validationResponse?: unknown }).validationResponse;
      } catch {
        answered = undefined;
      }
      if (answered === code) return;
      if (answered !== undefined) throw new Error(`subscription validation of ${url} failed: wrong validationResponse`);
      // No code in the answer: Event Grid then waits for a GET of the validationUrl.
      const timedOut = await Promise.race([
        manual.then(() => false),
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), MANUAL_VALIDATION_MS);
          void manual.then(() => clearTimeout(timer));
        }),
      ]);
      if (timedOut || this.closed)
        throw new Error(`subscription validation of ${url} failed: no validationResponse and no GET of the validationUrl`);
    } finally {
      this.manualValidations.delete(code);
    }
  }

  private post(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve({ error: 'emulator closed' });
        return;
      }
      const text = JSON.stringify(body);
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const finish = (result: PostResult) => {
        if (settled) return;
        settled = true;
        this.inflight.delete(req);
        clearTimeout(timer);
        resolve(result);
      };
      // agent: false — one connection per delivery, so close() leaves no pooled sockets behind.
      const req = send(target, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers },
      });
      this.inflight.add(req);
      const timer = setTimeout(() => {
        req.destroy();
        finish({ error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => finish({ error: e.message }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message }));
      req.end(text);
    });
  }
}
