// The services of one process: the adapters behind every port, built once by the composition root
// (composition.ts), which also assembles each use case's dependencies from them.
import type { QueueObservation } from './adapters/telemetry/queueObserver.js';
import type { Config } from './config.js';
import type { AnalyticsStore } from './ports/analytics.js';
import type { ConsentLog, OptOutStore } from './ports/consent.js';
import type { ConversationStore } from './ports/conversations.js';
import type { LinkStore } from './ports/links.js';
import type { DeadLetterStore, TransportDeadLetters } from './ports/deadLetters.js';
import type { EventDestination, EventOutbox, EventPublisher, StatusEventSink } from './ports/events.js';
import type { SmsGateway } from './ports/gateway.js';
import type { BudgetLedger, FraudWatchStore, SendingControlStore } from './ports/guard.js';
import type { FrequencyCapLedger, RetentionStore, TimeZoneLookup } from './ports/sendRules.js';
import type { IdempotencyStore } from './ports/idempotency.js';
import type { MessageStore } from './ports/messages.js';
import type { RateLimiter } from './ports/pacing.js';
import type { OutboundQueue } from './ports/queue.js';
import type { Clock } from './ports/runtime.js';
import type { SubmissionStore } from './ports/submissions.js';
import type { TemplateStore } from './ports/templates.js';
import type { DeliveryTracker } from './ports/tracking.js';

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
  /** Submissions past their point of no return, until their records and jobs are written. */
  submissions: SubmissionStore;
  /** Message templates and their versions. */
  templates: TemplateStore;
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
  /** The pause switch and fraud holds, read before every hand-over. */
  sendingControls: SendingControlStore;
  /** Spend budgets, charged at submit. */
  budgets: BudgetLedger;
  /** Send rules and retention: numbers' time zones (quiet hours), frequency caps' counts, the retention index. */
  sendRuleStores: { timeZones: TimeZoneLookup; frequencyCaps: FrequencyCapLedger; retention: RetentionStore };
  /** Recent traffic per prefix and OTP conversions per country: pumping detection. */
  fraudWatch: FraudWatchStore;
  links: LinkStore;
  /** Creates the tables (and the local queues) when missing; infra does this in Azure. */
  ensureStorage(): Promise<void>;
  /** Records the oldest waiting job's age and the dead letters waiting (metrics); returns them. */
  observeQueues(): Promise<QueueObservation & { tableDeadLetters: number }>;
}
