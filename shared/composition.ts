// The composition root: builds the adapters for this process from the configuration, once, on
// first use. Functions ask for what they need here; nothing else constructs adapters.
import { config, type Config } from './config.js';
import { createAcsGateway } from './adapters/acs/smsGateway.js';
import { systemClock } from './adapters/systemClock.js';
import { createTableAdapters } from './adapters/tables/tableClients.js';
import { StorageOutboundQueue } from './adapters/storagequeue/outboundQueue.js';
import { ServiceBusOutboundQueue } from './adapters/servicebus/outboundQueue.js';
import { StorageEventOutbox } from './adapters/storagequeue/eventOutbox.js';
import type { Clock, DeadLetterStore, DeliveryTracker, EventDestination, EventOutbox, MessageStore, OutboundQueue, RateLimiter, SmsGateway } from './ports.js';
import { publishingSink, type StatusEventSink } from './pipeline/statusEvents.js';
import type { TableOptOutStore } from './adapters/tables/optOutStore.js';
import { TableIdempotencyStore } from './adapters/tables/idempotencyStore.js';
import type { IdempotencyStore } from './pipeline/idempotency.js';
import { analyticsDestination, type AnalyticsStore } from './pipeline/analytics.js';
import { TableAnalyticsStore } from './adapters/tables/analyticsStore.js';

export interface Services {
  config: Config;
  clock: Clock;
  messages: MessageStore;
  optOuts: TableOptOutStore;
  deadLetters: DeadLetterStore;
  rateLimiter: RateLimiter;
  tracker: DeliveryTracker;
  queue: OutboundQueue;
  gateway: SmsGateway;
  idempotency: IdempotencyStore;
  /** The event outbox (a Storage queue) and what turns saved status changes into its events. */
  outbox: EventOutbox;
  events: StatusEventSink;
  /** Analytics counters: written by the analytics destination, read by GET /api/analytics. */
  analytics: AnalyticsStore;
  /** Where dispatchEvents delivers events: webhooks, the Event Grid topic, analytics. */
  destinations: EventDestination[];
  /** Creates the tables (and the local queue) when missing; infra does this in Azure. */
  ensureStorage(): Promise<void>;
}

let cached: Services | undefined;

export function services(): Services {
  cached ??= buildServices(config());
  return cached;
}

/** Builds a fresh set of services for the given configuration (tests, tools). */
export function buildServices(cfg: Config): Services {
  const tables = createTableAdapters(cfg.storage);
  const queue =
    cfg.outboundQueue.transport === 'storage'
      ? new StorageOutboundQueue(cfg.storage, cfg.outboundQueue.name)
      : new ServiceBusOutboundQueue(cfg.outboundQueue.serviceBus!, cfg.outboundQueue.name);
  const outbox = new StorageEventOutbox(cfg.storage, cfg.events.queueName);
  const analytics = new TableAnalyticsStore(tables.clientFor);
  return {
    config: cfg,
    clock: systemClock,
    messages: tables.messages,
    optOuts: tables.optOuts,
    deadLetters: tables.deadLetters,
    rateLimiter: tables.rateLimiter,
    tracker: tables.tracker,
    queue,
    gateway: createAcsGateway(cfg.acs, { timeoutMs: cfg.acsRequestTimeoutMs }),
    idempotency: TableIdempotencyStore.fromClientFor(tables.clientFor),
    outbox,
    events: publishingSink(outbox, cfg.events.source),
    analytics,
    destinations: [analyticsDestination(analytics, cfg.analytics, cfg.senders)],
    async ensureStorage() {
      await tables.ensureTables();
      await outbox.ensureQueue();
      if (queue instanceof StorageOutboundQueue) await queue.ensureQueue();
    },
  };
}
