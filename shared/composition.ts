// The composition root: builds the adapters for this process from the configuration, once, on
// first use, and assembles each use case's dependencies. Functions ask for a use case's deps here
// (deps.submit(log), deps.send(log) …) and never slice the configuration themselves; nothing else
// constructs adapters.
import { config, type Config } from './config.js';
import { createAcsGateway } from './adapters/acs/smsGateway.js';
import { eventDestinations } from './adapters/eventDestinations.js';
import { ServiceBusDeadLetterQueue } from './adapters/servicebus/deadLetterQueue.js';
import { ServiceBusOutboundQueue } from './adapters/servicebus/outboundQueue.js';
import { StorageEventOutbox } from './adapters/storagequeue/eventOutbox.js';
import { StorageOutboundQueue } from './adapters/storagequeue/outboundQueue.js';
import { StoragePoisonQueue } from './adapters/storagequeue/poisonQueue.js';
import { systemClock } from './adapters/systemClock.js';
import { createTableAdapters } from './adapters/tables/tableAdapters.js';
import {
  measuredGateway,
  measuredRateLimiter,
  telemetryDestination,
  tracedMessageStore,
  tracedQueue,
} from './adapters/telemetry/instrumented.js';
import { observeQueues } from './adapters/telemetry/queueObserver.js';
import { ServiceBusQueueProbe } from './adapters/servicebus/queueProbe.js';
import { StorageQueueProbe } from './adapters/storagequeue/queueProbe.js';
import { phoneTimeZones } from './adapters/phoneData/timeZoneLookup.js';
import type { EventPublisher } from './ports/events.js';
import type { Logger } from './ports/runtime.js';
import { analyticsDestination } from './pipeline/analytics.js';
import type { CancelDeps } from './pipeline/cancelMessage.js';
import type { ConsentDeps } from './pipeline/consent.js';
import type { DeadLetterDeps } from './pipeline/deadLetters.js';
import type { CarrierConsentDeps, DeliveryReportDeps } from './pipeline/deliveryReports.js';
import { eventPublisher, type DispatchDeps } from './pipeline/dispatchEvents.js';
import type { EraseDeps } from './pipeline/eraseSubject.js';
import type { FollowLinkDeps } from './pipeline/followLink.js';
import type { ConversionDeps } from './pipeline/guard/conversions.js';
import type { HoldDeps } from './pipeline/guard/holds.js';
import type { SendingDeps } from './pipeline/guard/sending.js';
import type { SubmitGuardDeps } from './pipeline/guard/submitGuard.js';
import type { InboundDeps } from './pipeline/inboundSms.js';
import type { ReconcileDeps } from './pipeline/reconcileDeliveries.js';
import type { RecoveryDeps } from './pipeline/recoverWork.js';
import type { SendDeps } from './pipeline/send/deps.js';
import { cachedHealth, sendingHealth } from './pipeline/health.js';
import { PRICE_CURRENCY } from './domain/pricing.js';
import { publishingSink } from './pipeline/statusEvents.js';
import type { PreviewDeps } from './pipeline/previewMessages.js';
import type { PlanDeps, SubmitDeps } from './pipeline/submitMessages.js';
import type { TemplateDeps } from './pipeline/templates.js';
import type { Services } from './services.js';

export type { Services } from './services.js';

let cached: Services | undefined;
export function services(): Services {
  cached ??= buildServices(config());
  return cached;
}

/** Builds a fresh set of services for the given configuration (tests, tools). */
export function buildServices(cfg: Config): Services {
  const tables = createTableAdapters(cfg.storage);
  const storageQueue =
    cfg.outboundQueue.transport === 'storage' ? new StorageOutboundQueue(cfg.storage, cfg.outboundQueue.name) : undefined;
  // Telemetry wraps the ports (adapters/telemetry/instrumented.ts); without an exporter it costs nothing.
  const queue = tracedQueue(
    storageQueue ?? new ServiceBusOutboundQueue(cfg.outboundQueue.serviceBus!, cfg.outboundQueue.name),
    cfg.outboundQueue.transport,
    cfg.outboundQueue.name,
  );
  const probe = storageQueue
    ? new StorageQueueProbe(cfg.storage, cfg.outboundQueue.name)
    : new ServiceBusQueueProbe(cfg.outboundQueue.serviceBus!, cfg.outboundQueue.name);
  const outbox = new StorageEventOutbox(cfg.storage, cfg.events.queueName);
  const destinations = [
    ...eventDestinations(cfg),
    analyticsDestination(tables.analytics, cfg.analytics, cfg.senders),
    telemetryDestination(),
  ];
  const publisher = eventPublisher({ destinations, outbox, retryBaseMs: cfg.events.retryBaseMs });
  return {
    config: cfg,
    clock: systemClock,
    messages: tracedMessageStore(tables.messages),
    optOuts: tables.optOuts,
    consentLog: tables.consentLog,
    conversations: tables.conversations,
    deadLetters: tables.deadLetters,
    transportDeadLetters: storageQueue
      ? new StoragePoisonQueue(cfg.storage, cfg.outboundQueue.name)
      : new ServiceBusDeadLetterQueue(cfg.outboundQueue.serviceBus!, cfg.outboundQueue.name),
    rateLimiter: measuredRateLimiter(tables.rateLimiter),
    tracker: tables.tracker,
    queue,
    gateway: measuredGateway(createAcsGateway(cfg.acs, { timeoutMs: cfg.acsRequestTimeoutMs }), new URL(cfg.acs.endpoint).host),
    idempotency: tables.idempotency,
    submissions: tables.submissions,
    templates: tables.templates,
    outbox,
    publisher,
    events: publishingSink(publisher, cfg.events.source),
    analytics: tables.analytics,
    destinations,
    observeQueues: () => observeQueues(probe, tables.deadLetters),
    sendingControls: tables.sendingControls,
    budgets: tables.budgets,
    sendRuleStores: { timeZones: phoneTimeZones(), frequencyCaps: tables.frequencyCaps, retention: tables.retention },
    fraudWatch: tables.fraudWatch,
    links: tables.links,
    async ensureStorage() {
      await tables.ensureTables();
      await outbox.ensureQueue();
      await storageQueue?.ensureQueue();
    },
  };
}

/** Each use case's dependencies, from the services of this process and the invocation's logger. */
export function depsOf(s: Services) {
  const consent = (log: Logger): ConsentDeps & { publisher: EventPublisher } => ({
    optOuts: s.optOuts,
    consentLog: s.consentLog,
    clock: s.clock,
    log,
    senders: s.config.senders,
    eventSource: s.config.events.source,
    publisher: s.publisher,
    mirror: s.config.inbound.mirrorOptOutsToAcs ? s.gateway : null,
  });
  const plan = (): PlanDeps => ({
    optOuts: s.optOuts,
    clock: s.clock,
    senders: s.config.senders,
    maxSegments: s.config.maxSegments,
    templates: s.templates,
    allowedCountries: s.config.guard.allowedCountries,
    links: s.links,
    linkPolicy: s.config.links,
    sendRules: s.config.sendRules,
    timeZones: s.sendRuleStores.timeZones,
    apps: s.config.apps,
  });
  const guard = (log: Logger): SubmitGuardDeps => ({
    budgets: s.budgets,
    fraudWatch: s.fraudWatch,
    controls: s.sendingControls,
    publisher: s.publisher,
    clock: s.clock,
    log,
    guardPolicy: {
      budgets: s.config.guard.budgets,
      pumping: s.config.guard.pumping,
      prices: s.config.analytics.prices,
      currency: PRICE_CURRENCY,
    },
    eventSource: s.config.events.source,
  });
  const deliveryReport = (log: Logger): DeliveryReportDeps => ({
    messages: s.messages,
    clock: s.clock,
    log,
    events: s.events,
    tracker: s.tracker,
    consent: consent(log) satisfies CarrierConsentDeps,
  });
  const send = (log: Logger): SendDeps => ({
    messages: s.messages,
    optOuts: s.optOuts,
    queue: s.queue,
    gateway: s.gateway,
    rateLimiter: s.rateLimiter,
    deadLetters: s.deadLetters,
    clock: s.clock,
    log,
    senders: s.config.senders,
    apps: s.config.apps,
    maxAttempts: s.config.sendMaxAttempts,
    events: s.events,
    tracker: s.tracker,
    conversations: s.conversations,
    uncertainPolicy: s.config.uncertainPolicy,
    controls: s.sendingControls,
    allowedCountries: s.config.guard.allowedCountries,
    holdRecheckMs: s.config.guard.pumping.heldRecheckSeconds * 1000,
  });
  return {
    consent,
    plan,
    preview: (): PreviewDeps => ({ ...plan(), prices: s.config.analytics.prices }),
    submit: (log: Logger): SubmitDeps => ({
      ...plan(),
      ...guard(log),
      messages: s.messages,
      queue: s.queue,
      submissions: s.submissions,
      log,
      events: s.events,
      frequencyCaps: s.sendRuleStores.frequencyCaps,
    }),
    send,
    deliveryReport,
    reconcile: (log: Logger): ReconcileDeps => ({
      ...deliveryReport(log),
      gateway: s.gateway,
      queue: s.queue,
      uncertainPolicy: s.config.uncertainPolicy,
      reconcileAfterMs: s.config.reconcile.afterMs,
      deadlineMs: s.config.reconcile.deadlineMs,
    }),
    /** Work untouched for one interval (at least 30 s) is considered stopped. */
    recovery: (log: Logger): RecoveryDeps => ({
      ...send(log),
      submissions: s.submissions,
      staleAfterMs: Math.max(30_000, s.config.recovery.intervalMs),
    }),
    inbound: (log: Logger): InboundDeps => ({
      ...consent(log),
      messages: s.messages,
      queue: s.queue,
      events: s.events,
      conversations: s.conversations,
      policy: s.config.inbound,
      apps: s.config.apps,
    }),
    templates: (): TemplateDeps => ({ templates: s.templates, clock: s.clock }),
    retention: (log: Logger) => ({ retention: s.sendRuleStores.retention, clock: s.clock, log, policy: s.config.retention }),
    cancel: (log: Logger): CancelDeps => ({ messages: s.messages, clock: s.clock, log, events: s.events }),
    followLink: (log: Logger): FollowLinkDeps => ({ ...s, log, eventSource: s.config.events.source }),
    erase: (log: Logger): EraseDeps => ({
      messages: s.messages,
      conversations: s.conversations,
      consentLog: s.consentLog,
      optOuts: s.optOuts,
      senders: s.config.senders,
      clock: s.clock,
      log,
      events: s.events,
      links: s.links,
    }),
    dispatch: (log: Logger): DispatchDeps => ({
      destinations: s.destinations,
      outbox: s.outbox,
      clock: s.clock,
      log,
      retryBaseMs: s.config.events.retryBaseMs,
    }),
    deadLetters: (): DeadLetterDeps => ({
      deadLetters: s.deadLetters,
      transportDeadLetters: s.transportDeadLetters,
      messages: s.messages,
      queue: s.queue,
      clock: s.clock,
      events: s.events,
    }),
    /** PUT and GET /api/sending: the pause switch and the state of sending. */
    sending: (log: Logger): SendingDeps => ({
      controls: s.sendingControls,
      budgets: s.budgets,
      publisher: s.publisher,
      clock: s.clock,
      log,
      senders: s.config.senders,
      budgetPolicy: s.config.guard.budgets,
      allowedCountries: s.config.guard.allowedCountries,
      eventSource: s.config.events.source,
    }),
    holds: (log: Logger): HoldDeps => ({
      controls: s.sendingControls,
      publisher: s.publisher,
      clock: s.clock,
      log,
      pumping: s.config.guard.pumping,
      eventSource: s.config.events.source,
    }),
    conversions: (log: Logger): ConversionDeps => ({
      messages: s.messages,
      fraudWatch: s.fraudWatch,
      clock: s.clock,
      log,
      pumping: s.config.guard.pumping,
    }),
    /** GET /api/health's report: storage, the outbound queue and ACS, and whether sending is paused, kept for a few seconds. */
    health: cachedHealth(
      () => ({
        storage: () => s.messages.ping(),
        queue: () => s.queue.ping(),
        acs: () => s.gateway.ping(s.config.senders[0]?.number),
      }),
      s.clock,
      undefined,
      async () => sendingHealth(await s.sendingControls.snapshot(1_000)),
    ),
  };
}

export type Deps = ReturnType<typeof depsOf>;

let cachedDeps: Deps | undefined;

/** The use cases' dependencies of this process. */
export function deps(): Deps {
  cachedDeps ??= depsOf(services());
  return cachedDeps;
}
