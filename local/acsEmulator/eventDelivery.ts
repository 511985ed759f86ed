// Event Grid push delivery to webhook subscribers, as Event Grid documents it: the validation
// handshake of the subscription's schema (SubscriptionValidationEvent answered 200 with the code,
// or the CloudEvents OPTIONS abuse-protection handshake), deliveries of one or more events per
// POST with the aeg-* headers, 200–204 as success, and retries with backoff except where Event
// Grid never retries. Facts and their sources: acsFacts.ts EVENT_GRID.
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EVENT_GRID } from '../../shared/domain/acsFacts.js';
import { subscriptionValidationEvent, type PublishedEvent } from './events.js';
import type { EventGridSettings } from './settings.js';
import type { WorkTracker } from './workTracker.js';

/** The event delivery schema of a subscription (Event Grid's eventDeliverySchema). */
export type DeliverySchema = 'EventGridSchema' | 'CloudEventSchemaV1_0';

export interface SubscriberInfo {
  url: string;
  /** Sent as aeg-subscription-name. */
  name: string;
  /** True when the subscriber passed the validation handshake. */
  validated: boolean;
  /** Event types delivered to it (Event Grid's includedEventTypes); absent = all. */
  eventTypes?: string[];
  schema: DeliverySchema;
  /** Overrides eventGrid.maxEventsPerBatch for this subscriber. */
  maxEventsPerBatch?: number;
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
  /** Events in the POST that carried it (the last attempt's). */
  batchSize?: number;
}

interface Pending {
  event: PublishedEvent;
  entry: DeliveryLogEntry;
  end: () => void;
  epoch: number;
}

interface Subscriber {
  info: SubscriberInfo;
  /** Events waiting for a delivery; the next POST takes up to maxEventsPerBatch of them. */
  queue: Pending[];
  active: number;
  removed: boolean;
  pumpScheduled: boolean;
}

const SUCCESS = new Set<number>(EVENT_GRID.successStatuses);
const NEVER_RETRIED = new Set<number>(EVENT_GRID.neverRetried);
const MAX_LOG = 5000;

export interface SubscriberOptions {
  /** Perform the validation handshake of the schema first (default true). */
  validate?: boolean;
  /** Sent as aeg-subscription-name; defaults to EMULATOR-SUBSCRIPTION-<n>. */
  name?: string;
  /** Deliver only these event types (Event Grid's includedEventTypes filter). */
  eventTypes?: string[];
  /** 'EventGridSchema' (default) or 'CloudEventSchemaV1_0'. */
  schema?: DeliverySchema;
  /** Events per POST for this subscriber (default eventGrid.maxEventsPerBatch). */
  maxEventsPerBatch?: number;
}

type PostResult = { status: number; body: string; headers: IncomingHttpHeaders } | { error: string };

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
   * Adds a webhook subscriber. With `validate`, it first runs the handshake of its schema, like
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
    const schema = options.schema ?? 'EventGridSchema';
    const name = options.name ?? `EMULATOR-SUBSCRIPTION-${++this.counter}`;
    if (validate) {
      if (schema === 'CloudEventSchemaV1_0') await this.abuseProtectionHandshake(url);
      else await this.validationHandshake(url, name);
    }
    const existing = this.subscribers.get(url);
    if (existing) existing.removed = true;
    const info: SubscriberInfo = {
      url,
      name,
      validated: validate,
      ...(options.eventTypes ? { eventTypes: [...options.eventTypes] } : {}),
      schema,
      ...(options.maxEventsPerBatch ? { maxEventsPerBatch: options.maxEventsPerBatch } : {}),
      addedAt: new Date().toISOString(),
    };
    this.subscribers.set(url, { info, queue: [], active: 0, removed: false, pumpScheduled: false });
    this.deps.log(`event grid: subscriber ${url} added (${schema})${validate ? ' (validated)' : ''}`);
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

  /** Queues an event for every current subscriber that takes its type. */
  publish(event: PublishedEvent): void {
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
      sub.queue.push({ event, entry, end: this.deps.work.begin(), epoch: this.epoch });
      this.schedulePump(sub);
    }
  }

  /**
   * Starts deliveries on the next microtask, so that events published together (a released group
   * of reports) can share a POST; nothing waits longer to fill a batch, as Event Grid documents.
   */
  private schedulePump(sub: Subscriber): void {
    if (sub.pumpScheduled) return;
    sub.pumpScheduled = true;
    queueMicrotask(() => {
      sub.pumpScheduled = false;
      this.pump(sub);
    });
  }

  /** Starts deliveries while the subscriber has fewer than maxConcurrentDeliveries in flight. */
  private pump(sub: Subscriber): void {
    const settings = this.deps.settings();
    const limit = Math.max(1, settings.maxConcurrentDeliveries);
    const batchSize = Math.max(1, sub.info.maxEventsPerBatch ?? settings.maxEventsPerBatch);
    while (sub.active < limit && sub.queue.length > 0) {
      const batch = sub.queue.splice(0, batchSize);
      sub.active++;
      void this.attempt(sub, batch, 1).finally(() => {
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

  private finish(items: Pending[], status: DeliveryLogEntry['status'], lastResult?: number | string): void {
    for (const p of items) {
      p.entry.status = status;
      if (lastResult !== undefined) p.entry.lastResult = lastResult;
      p.end();
    }
  }

  /** One POST of a batch; the batch succeeds or fails as a whole ("all or none"). */
  private async attempt(sub: Subscriber, batch: Pending[], attempt: number): Promise<void> {
    const live = batch.filter((p) => !this.closed && !sub.removed && p.epoch === this.epoch);
    this.finish(
      batch.filter((p) => !live.includes(p)),
      'failed',
      sub.removed ? 'subscriber removed' : 'cancelled',
    );
    if (live.length === 0) return;
    const settings = this.deps.settings();
    for (const p of live) {
      p.entry.attempts = attempt;
      p.entry.batchSize = live.length;
    }
    const cloud = sub.info.schema === 'CloudEventSchemaV1_0';
    const first = live[0]!.event;
    const result = await this.post(
      'POST',
      sub.info.url,
      cloud ? live.map((p) => p.event.cloudEvent) : live.map((p) => p.event.eventGrid),
      {
        'content-type': EVENT_GRID.contentType[sub.info.schema],
        'aeg-event-type': 'Notification',
        'aeg-subscription-name': sub.info.name,
        'aeg-delivery-count': String(attempt - 1),
        // Event Grid schema: the event's metadata and data versions; CloudEvents: the spec version, no data version.
        'aeg-metadata-version': cloud ? '1.0' : first.eventGrid.metadataVersion,
        ...(cloud ? {} : { 'aeg-data-version': first.eventGrid.dataVersion }),
      },
      settings.requestTimeoutMs,
    );
    if ('status' in result && SUCCESS.has(result.status)) {
      this.finish(live, 'delivered', result.status);
      return;
    }
    const lastResult = 'status' in result ? result.status : result.error;
    for (const p of live) p.entry.lastResult = lastResult;
    const permanent = 'status' in result && NEVER_RETRIED.has(result.status);
    if (permanent || attempt >= settings.maxAttempts || this.closed) {
      this.deps.log(
        `event grid: gave up on ${live.length} event(s) to ${sub.info.url} after ${attempt} attempt(s): ${lastResult}`,
      );
      this.finish(live, 'failed');
      return;
    }
    const backoff = settings.retryBaseMs * 2 ** (attempt - 1);
    // Retries run beside the first attempts, so one failing batch does not hold back the next ones.
    this.deps.work.schedule(() => {
      void this.attempt(sub, live, attempt + 1);
    }, backoff);
  }

  /**
   * Event Grid schema handshake: the SubscriptionValidationEvent, answered with HTTP 200 and
   * {"validationResponse": code}; 200 without the code leaves the subscription waiting for a GET
   * of the validationUrl. Any other status, 202 included, fails ("HTTP 202 Accepted isn't
   * recognized as a valid Event Grid subscription validation response").
   */
  private async validationHandshake(url: string, name: string): Promise<void> {
    const code = randomUUID();
    const event = subscriptionValidationEvent(this.deps.settings().topic, code, this.deps.validationUrl(code));
    const manual = new Promise<void>((resolve) => this.manualValidations.set(code, resolve));
    try {
      const result = await this.post(
        'POST',
        url,
        [event],
        {
          'content-type': EVENT_GRID.contentType.EventGridSchema,
          'aeg-event-type': 'SubscriptionValidation',
          'aeg-subscription-name': name,
          'aeg-delivery-count': '0',
          'aeg-data-version': event.dataVersion,
          'aeg-metadata-version': event.metadataVersion,
        },
        this.deps.settings().requestTimeoutMs,
      );
      if ('error' in result) throw new Error(`subscription validation of ${url} failed: ${result.error}`);
      if (result.status !== EVENT_GRID.validationStatus) {
        throw new Error(
          `subscription validation of ${url} failed: the endpoint answered ${result.status}, and only 200 is recognised`,
        );
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
      // 200 without a code: Event Grid then waits for a GET of the validationUrl.
      const window = this.deps.settings().manualValidationMs;
      const timedOut = await Promise.race([
        manual.then(() => false),
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), window);
          void manual.then(() => clearTimeout(timer));
        }),
      ]);
      if (timedOut || this.closed)
        throw new Error(`subscription validation of ${url} failed: no validationResponse and no GET of the validationUrl`);
    } finally {
      this.manualValidations.delete(code);
    }
  }

  /**
   * CloudEvents 1.0 abuse protection: OPTIONS with WebHook-Request-Origin; the target agrees by
   * answering WebHook-Allowed-Origin with that origin or "*" (the status code is not relied on).
   */
  private async abuseProtectionHandshake(url: string): Promise<void> {
    const origin = EVENT_GRID.webhookRequestOrigin;
    const result = await this.post(
      'OPTIONS',
      url,
      undefined,
      { 'webhook-request-origin': origin },
      this.deps.settings().requestTimeoutMs,
    );
    if ('error' in result) throw new Error(`CloudEvents handshake with ${url} failed: ${result.error}`);
    const allowed = result.headers['webhook-allowed-origin'];
    const value = Array.isArray(allowed) ? allowed[0] : allowed;
    if (value !== origin && value !== '*') {
      throw new Error(
        `CloudEvents handshake with ${url} failed: WebHook-Allowed-Origin was ${value === undefined ? 'absent' : `"${value}"`}`,
      );
    }
  }

  private post(
    method: 'POST' | 'OPTIONS',
    url: string,
    body: unknown,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<PostResult> {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve({ error: 'emulator closed' });
        return;
      }
      const text = body === undefined ? '' : JSON.stringify(body);
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
        method,
        agent: false,
        headers: { 'content-length': Buffer.byteLength(text), ...headers },
      });
      this.inflight.add(req);
      const timer = setTimeout(() => {
        req.destroy();
        finish({ error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
        res.on('error', (e) => finish({ error: e.message }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message }));
      req.end(text);
    });
  }
}
