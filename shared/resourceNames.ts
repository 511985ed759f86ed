// Names of the tables the pipeline keeps; infra/ creates exactly these (the contract test checks).

/** Table Storage tables, by purpose. Names are 3-63 alphanumeric characters, starting with a letter. */
export const TABLES = {
  /** One entity per message, partitioned by batch so a submit writes 100 records per transaction. */
  messages: 'messages',
  /** ACS message id → our message id, for delivery reports that carry no batch tag. */
  acsMessageIds: 'acsMessageIds',
  /** Messages handed to ACS and not yet final, by hand-over minute: what the reconciler follows. */
  deliveryTracking: 'deliveryTracking',
  /** Delivery reports that arrived before their message was known; applied by the reconciler. */
  parkedReports: 'parkedReports',
  /** Who opted out of which sender: one point read per (sender, recipient). */
  optOuts: 'optOuts',
  /** Every consent change, kept for ever, one partition per person; and the latest change per sender. */
  consentLog: 'consentLog',
  /** Every text sent and received, one thread per (our number, their number), newest first. */
  conversations: 'conversations',
  /** Send jobs that could not be processed, with the reason; replayable. */
  deadLetters: 'deadLetters',
  /** Requests past their point of no return whose records and send jobs are not all written yet. */
  submissions: 'submissions',
  /** Idempotency-Key reservations and the responses they answered with. */
  idempotency: 'idempotency',
  /** Pacing state per sender number, shared by every instance. */
  rateLimits: 'rateLimits',
  /** Analytics: counted facts and counters per day and hour, by day × shard (docs/analytics.md). */
  analytics: 'analytics',
  /** Message templates: the current version of each, and every version ever written. */
  templates: 'templates',
  /** The app's own message references → message ids, in 16 shards, for GET /api/messages?reference=. */
  messageReferences: 'messageReferences',
  /** The pause switch and fraud holds, read before every hand-over (docs/security.md). */
  sendingControls: 'sendingControls',
  /** Spend budgets: counters per period and scope, and one charge per batch (docs/security.md). */
  budgets: 'budgets',
  /** Pumping detection: recent traffic per number prefix and OTP conversions per country. */
  fraudWatch: 'fraudWatch',
  /** Tracked short links by code (one point read per redirect), with their clicks (docs/links.md). */
  links: 'links',
  /** Frequency caps: the messages counted per recipient and category, per day and week (docs/sending.md). */
  frequencyCaps: 'frequencyCaps',
  /** Retention: what was made each day (message batches, conversation entries), and the days done (docs/security.md). */
  retention: 'retention',
} as const;

export type TableName = (typeof TABLES)[keyof typeof TABLES];

/** Default name of the outbound queue; the OUTBOUND_QUEUE_NAME setting can change it. */
export const DEFAULT_OUTBOUND_QUEUE = 'sms-outbound';
