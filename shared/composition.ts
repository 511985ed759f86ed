// The composition root: builds the adapters for this process from the configuration, once, on
// first use. Functions ask for what they need here; nothing else constructs adapters.
import { config, type Config } from './config.js';
import { createAcsGateway } from './adapters/acs/smsGateway.js';
import { systemClock } from './adapters/systemClock.js';
import { createTableAdapters } from './adapters/tables/tableClients.js';
import { StorageOutboundQueue } from './adapters/storagequeue/outboundQueue.js';
import { ServiceBusOutboundQueue } from './adapters/servicebus/outboundQueue.js';
import { StorageEventOutbox } from './adapters/storagequeue/eventOutbox.js';
import { StoragePoisonQueue } from './adapters/storagequeue/poisonQueue.js';
import { ServiceBusDeadLetterQueue } from './adapters/servicebus/deadLetterQueue.js';
import type {
  Clock,
  ConsentLog,
  ConversationStore,
  DeadLetterStore,
  DeliveryTracker,
  EventDestination,
  EventOutbox,
  EventPublisher,
  Logger,
  MessageStore,
  OptOutStore,
  OutboundQueue,
  RateLimiter,
  SmsGateway,
  TransportDeadLetters,
} from './ports.js';
import { eventDestinations } from './adapters/eventDestinations.js';
import { publishingSink, type StatusEventSink } from './pipeline/statusEvents.js';
import type { ConsentDeps } from './pipeline/optOuts.js';
import type { InboundDeps } from './pipeline/inboundSms.js';
import { TableIdempotencyStore } from './adapters/tables/idempotencyStore.js';
import type { IdempotencyStore } from './pipeline/idempotency.js';
import { analyticsDestination, type AnalyticsStore } from './pipeline/analytics.js';
import { eventPublisher } from './pipeline/dispatchEvents.js';
import { TableAnalyticsStore } from './adapters/tables/analyticsStore.js';

export interface Services {
  config: Config;
  clock: Clock;
  messages: MessageStore;
  optOuts: OptOutStore;
  /** Every consent change, for ever, per person. */
  consentLog: ConsentLog;
  /** Threads of texts sent and received, per (our number, their number). */
  conversations: ConversationStore;
  deadLetters: DeadLetterStore;
  /** The queue transport's own dead letters (poison queue or dead-letter sub-queue). */
  transportDeadLetters: TransportDeadLetters;
  rateLimiter: RateLimiter;
  tracker: DeliveryTracker;
  queue: OutboundQueue;
  gateway: SmsGateway;
  idempotency: IdempotencyStore;
  /** The event outbox (a Storage queue): events for the destinations not reached at once, and retries. */
  outbox: EventOutbox;
  /** Where every use case publishes its events: analytics at once, the rest through the outbox. */
  publisher: EventPublisher;
  /** What turns saved status changes into events for the publisher. */
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
  const destinations = [...eventDestinations(cfg), analyticsDestination(analytics, cfg.analytics, cfg.senders)];
  const publisher = eventPublisher({ destinations, outbox, retryBaseMs: cfg.events.retryBaseMs });
  return {
    config: cfg,
    clock: systemClock,
    messages: tables.messages,
    optOuts: tables.optOuts,
    consentLog: tables.consentLog,
    conversations: tables.conversations,
    deadLetters: tables.deadLetters,
    transportDeadLetters:
      cfg.outboundQueue.transport === 'storage'
        ? new StoragePoisonQueue(cfg.storage, cfg.outboundQueue.name)
        : new ServiceBusDeadLetterQueue(cfg.outboundQueue.serviceBus!, cfg.outboundQueue.name),
    rateLimiter: tables.rateLimiter,
    tracker: tables.tracker,
    queue,
    gateway: createAcsGateway(cfg.acs, { timeoutMs: cfg.acsRequestTimeoutMs }),
    idempotency: TableIdempotencyStore.fromClientFor(tables.clientFor),
    outbox,
    publisher,
    events: publishingSink(publisher, cfg.events.source),
    analytics,
    destinations,
    async ensureStorage() {
      await tables.ensureTables();
      await outbox.ensureQueue();
      if (queue instanceof StorageOutboundQueue) await queue.ensureQueue();
    },
  };
}

/** What the consent use cases need: the stores, the pool, and ACS's opt-out list when mirroring is on. */
export function consentDeps(s: Services, log: Logger): ConsentDeps & { publisher: EventPublisher } {
  return {
    optOuts: s.optOuts,
    consentLog: s.consentLog,
    clock: s.clock,
    log,
    senders: s.config.senders,
    eventSource: s.config.events.source,
    publisher: s.publisher,
    ...(s.config.inbound.mirrorOptOutsToAcs ? { mirror: s.gateway } : {}),
  };
}

/** What inboundSms needs: consent, replies through the send path, conversations and the publisher. */
export function inboundDeps(s: Services, log: Logger): InboundDeps {
  return {
    ...consentDeps(s, log),
    messages: s.messages,
    queue: s.queue,
    events: s.events,
    conversations: s.conversations,
    policy: s.config.inbound,
  };
}
