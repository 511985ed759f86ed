// Every telemetry name the pipeline emits: spans, metrics, their attributes, log properties and
// the log events other parts agree on. The code emits only these (it imports them from here), and
// test/infra/telemetryNames.test.ts checks that every alert and workbook query in infra/ asks only
// for these — a renamed metric cannot leave an alert silently watching nothing. What each means
// and which alert reads it: docs/operations.md.

/** Span names: one trace per message, from the submit to its delivery report. */
export const SPANS = {
  /** POST /api/messages: validation, opt-out check, records and jobs (INTERNAL, child of the host's request). */
  submit: 'sms.submit',
  /** Send jobs put on the outbound queue (PRODUCER); its context travels in the job as `traceparent`. */
  enqueue: 'sms.enqueue',
  /** One send job taken off the queue (CONSUMER, child of the job's `traceparent`). */
  send: 'sms.send',
  /** The ACS SMS request (CLIENT); its context goes to ACS as the `traceparent` header. */
  acsSend: 'sms.acs.send',
  /** A delivery report applied (CONSUMER, child of the message's stored `traceparent`). */
  deliveryReport: 'sms.delivery_report',
  /** An inbound SMS (CONSUMER), linked to the trace of the message it answers. */
  inbound: 'sms.inbound',
} as const;

export type SpanName = (typeof SPANS)[keyof typeof SPANS];

/**
 * Attribute (custom dimension) names of spans and metrics. Never a phone number of a recipient and
 * never a text: senders appear masked (+1800***0100), as in the logs.
 */
export const ATTRIBUTES = {
  messageId: 'sms.message_id',
  batchId: 'sms.batch_id',
  jobId: 'sms.job_id',
  tag: 'sms.tag',
  /** Our sender number, masked. */
  sender: 'sms.sender',
  recipients: 'sms.recipients',
  outcome: 'sms.outcome',
  status: 'sms.status',
  /** ACS's failure code (deliveryStatusDetails code or HTTP status), or a pipeline code such as max-attempts. */
  failureCode: 'sms.failure_code',
  attempt: 'sms.attempt',
  deliveryCount: 'sms.delivery_count',
  acsOperation: 'sms.acs.operation',
  inReplyTo: 'sms.in_reply_to',
  keyword: 'sms.keyword',
  optOutSource: 'sms.optout.source',
  deadLetterStore: 'sms.dead_letter.store',
  httpStatusCode: 'http.response.status_code',
  errorType: 'error.type',
  serverAddress: 'server.address',
  messagingSystem: 'messaging.system',
  messagingDestination: 'messaging.destination.name',
  messagingBatchCount: 'messaging.batch.message_count',
} as const;

export type AttributeName = (typeof ATTRIBUTES)[keyof typeof ATTRIBUTES];

export interface MetricSpec {
  name: string;
  kind: 'counter' | 'histogram' | 'gauge';
  unit: string;
  description: string;
  attributes: readonly AttributeName[];
}

const metric = <K extends MetricSpec['kind']>(spec: MetricSpec & { kind: K }): MetricSpec & { kind: K } => spec;

/** OpenTelemetry metrics; in Application Insights each is a customMetrics row per interval and dimension set. */
export const METRICS = {
  accepted: metric({
    name: 'sms.messages.accepted',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages accepted for sending (queued or scheduled).',
    attributes: [ATTRIBUTES.sender, ATTRIBUTES.status],
  }),
  handedOver: metric({
    name: 'sms.messages.handed_over',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages ACS accepted (status sent).',
    attributes: [ATTRIBUTES.sender],
  }),
  delivered: metric({
    name: 'sms.messages.delivered',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages the carrier reported delivered.',
    attributes: [ATTRIBUTES.sender],
  }),
  failed: metric({
    name: 'sms.messages.failed',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages that ended failed, by code.',
    attributes: [ATTRIBUTES.sender, ATTRIBUTES.failureCode],
  }),
  suppressed: metric({
    name: 'sms.messages.suppressed',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages not sent because the recipient opted out.',
    attributes: [ATTRIBUTES.sender],
  }),
  notDelivered: metric({
    name: 'sms.messages.not_delivered',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages that ended expired, canceled or unknown.',
    attributes: [ATTRIBUTES.sender, ATTRIBUTES.status, ATTRIBUTES.failureCode],
  }),
  acsDuration: metric({
    name: 'sms.acs.duration',
    kind: 'histogram',
    unit: 'ms',
    description: 'Duration of each ACS request, by operation and HTTP status (0: no answer).',
    attributes: [ATTRIBUTES.acsOperation, ATTRIBUTES.httpStatusCode, ATTRIBUTES.errorType],
  }),
  queueAge: metric({
    name: 'sms.queue.oldest_age',
    kind: 'gauge',
    unit: 's',
    description: 'Age of the oldest send job waiting on the outbound queue (0 when it is empty).',
    attributes: [ATTRIBUTES.messagingSystem, ATTRIBUTES.messagingDestination],
  }),
  pacingDelay: metric({
    name: 'sms.pacing.delay',
    kind: 'histogram',
    unit: 'ms',
    description: "How long a send job waits for its sender number's next slot.",
    attributes: [ATTRIBUTES.sender],
  }),
  deliveryReportLag: metric({
    name: 'sms.delivery_report.lag',
    kind: 'histogram',
    unit: 's',
    description: 'From the hand-over to ACS to the final status recorded from its delivery report.',
    attributes: [ATTRIBUTES.sender, ATTRIBUTES.status],
  }),
  deliveryReports: metric({
    name: 'sms.delivery_reports',
    kind: 'counter',
    unit: '{report}',
    description: 'Delivery report events received, by outcome (applied, duplicate, unknownMessage, malformed).',
    attributes: [ATTRIBUTES.outcome],
  }),
  deadLetters: metric({
    name: 'sms.dead_letters.waiting',
    kind: 'gauge',
    unit: '{job}',
    description:
      "Send jobs dead-lettered and not yet replayed or discarded, in the pipeline's table and the transport's dead-letter queue (counted up to 100 each).",
    attributes: [ATTRIBUTES.deadLetterStore],
  }),
  optOuts: metric({
    name: 'sms.optouts',
    kind: 'counter',
    unit: '{change}',
    description: 'Opt-outs (status added) and opt-ins (status removed), by source: keyword, api, carrier.',
    attributes: [ATTRIBUTES.status, ATTRIBUTES.optOutSource],
  }),
  inbound: metric({
    name: 'sms.inbound.received',
    kind: 'counter',
    unit: '{message}',
    description: 'Texts received, by keyword class (none, optOut, optIn, help).',
    attributes: [ATTRIBUTES.keyword],
  }),
} as const;

/**
 * Log messages other parts of the pipeline agree on, by name. A log entry is a fixed message and
 * named properties; in Application Insights the message is `traces.message` and the properties
 * are customDimensions.
 */
export const LOG_EVENTS = {
  /**
   * The spend guard (shared/pipeline/guard/submitGuard.ts) writes `log.warn('sms.budget.reached',
   * { scope, period, metric, limit, spent })` once per limit and period when a budget is reached
   * (limit and spent in messages, or millionths of USD for cost); the budget alert watches for it.
   */
  budgetReached: 'sms.budget.reached',
} as const;

/** Properties every log entry carries, added by the logger, beside the call's own. */
export const LOG_PROPERTIES = {
  function: 'function',
  invocationId: 'invocationId',
  /** Common call-site properties the workbook and runbook read. */
  messageId: 'messageId',
  batchId: 'batchId',
  jobId: 'jobId',
  tag: 'tag',
  sender: 'sender',
  outcome: 'outcome',
  durationMs: 'durationMs',
} as const;

/** Every metric name, for the checks. */
export const METRIC_NAMES: readonly string[] = Object.values(METRICS).map((m) => m.name);
/** Every span name, for the checks. */
export const SPAN_NAMES: readonly string[] = Object.values(SPANS);
/** Every attribute and log property name, for the checks. */
export const DIMENSION_NAMES: readonly string[] = [...Object.values(ATTRIBUTES), ...Object.values(LOG_PROPERTIES)];
