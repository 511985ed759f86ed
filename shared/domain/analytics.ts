// Analytics arithmetic, pure: what each pipeline event adds to which counters (a "fact"), the
// delivery-latency histogram and its percentiles, and the report built from summed counters.
// Every fact has a deterministic key and a time taken from the event, never from the clock, so
// recording the same event twice can be recognised, and lands in the same bucket, every time.
import { DEFAULT_APP } from './caller.js';
import type { SenderType } from './sender.js';
import { countryOf } from './countries.js';
import type {
  ClickEventData,
  ConsentEventData,
  InboundEventData,
  MessageEventData,
  PipelineEvent,
  RefusalEventData,
} from './events.js';
import { FREQUENCY_CAP_CODE } from './frequencyCap.js';
import { UNCERTAIN_HANDOVER_CODE } from './message.js';
import { QUIET_HOURS_CODE } from './quietHours.js';
import type { MessageStatus } from './messageStatus.js';
import { costMicros, pricePerSegment, type PriceTable } from './pricing.js';
import { templateKey } from './template.js';

/** The plain counters, as they are named in storage and in the report. */
export const COUNTERS = [
  'submitted',
  'suppressed',
  'sent',
  'delivered',
  'failed',
  'expired',
  'canceled',
  'unknown',
  'uncertain',
  'held',
  'geoRefused',
  'quietHours',
  'frequencyCapped',
  'segmentsSent',
  'segmentsDelivered',
  'costMicros',
  'inbound',
  'replies',
  'answered',
  'optOuts',
  'optIns',
  'helpRequests',
  // Tracked links (domain/linkEvents.ts): clicks of people, messages clicked, the seconds from send
  // to each message's first click (their mean is the time to first click), preview fetchers and bots.
  'clicks',
  'uniqueClicks',
  'firstClickSeconds',
  'linkPreviews',
] as const;
export type CounterName = (typeof COUNTERS)[number];

/**
 * Amounts by counter name: the COUNTERS, one `fc_<code>` per failure code and one `lat_<nn>` per
 * latency bucket. Names are valid Table Storage property names.
 */
export type Tally = Record<string, number>;

/** Upper bounds (inclusive, ms) of the delivery-latency buckets; one more bucket holds the rest. */
export const LATENCY_BOUNDS_MS = [
  250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000,
  259_200_000,
] as const;
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

export const FAILURE_CODE_PREFIX = 'fc_';
export const LATENCY_PREFIX = 'lat_';

/** Index of the latency bucket for `ms`. */
export function latencyBucket(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
}

export function latencyProperty(bucket: number): string {
  return `${LATENCY_PREFIX}${String(bucket).padStart(2, '0')}`;
}

/**
 * The counter of a failure code. Codes are ACS delivery codes ("4005"), HTTP statuses ("400") or the
 * pipeline's own ("max-attempts", "acs-400"); "-" becomes "_" to make a property name, and back.
 */
export function failureCodeProperty(code: string | undefined): string {
  const clean = code !== undefined && /^[A-Za-z0-9-]{1,40}$/.test(code) ? code : code === undefined ? 'none' : 'other';
  return `${FAILURE_CODE_PREFIX}${clean.replace(/-/g, '_')}`;
}

export function failureCodeOf(property: string): string {
  return property.slice(FAILURE_CODE_PREFIX.length).replace(/_/g, '-');
}

/** Whether a stored property is one of the counters (and not bookkeeping such as tag or bucket). */
export function isTallyProperty(name: string): boolean {
  return (
    (COUNTERS as readonly string[]).includes(name) ||
    /^fc_[A-Za-z0-9_]{1,40}$/.test(name) ||
    (/^lat_\d\d$/.test(name) && Number(name.slice(LATENCY_PREFIX.length)) < LATENCY_BUCKETS)
  );
}

export function addTally(into: Tally, from: Readonly<Tally>): Tally {
  for (const [name, amount] of Object.entries(from)) into[name] = (into[name] ?? 0) + amount;
  return into;
}

/** One thing to count exactly once: the tally `key` adds to the counters of (`at`'s hour, tag, sender, template). */
export interface AnalyticsFact {
  /** Deterministic: "e:<event id>" for what an event adds, "a:<message id>" for a message answered. */
  key: string;
  /** ISO time that decides the hour and day; the same for every copy of the fact. */
  at: string;
  /** The campaign tag, "" for none. */
  tag: string;
  /** Our number (or "*" for an opt-out from the whole pool). */
  sender: string;
  /** The template and version the message was rendered from ("appointment-reminder@3"), "" for none. */
  template: string;
  /** The app (domain/apps.ts), absent for the default app: its counters keep the rows they had before apps. */
  app?: string;
  tally: Tally;
}

/** The fact's app field: none for the default app (and for events older than apps). */
const appField = (app: string | undefined) => (app !== undefined && app !== DEFAULT_APP ? { app } : {});

export interface FactContext {
  /** The number type of a sender, for its price. */
  senderType(sender: string): SenderType;
  prices: PriceTable;
  /** A delivered message counts as answered when a reply comes within this long of its hand-over. */
  responseWindowMs: number;
}

/** Statuses after which the message has been counted as handed to ACS. */
const COUNTED_AS_SENT: ReadonlySet<MessageStatus | undefined> = new Set(['sent', 'unknown']);

/** The facts an event adds; none for events analytics does not count or whose time is not a time. */
export function factsOf(event: PipelineEvent, ctx: FactContext): AnalyticsFact[] {
  if (!Number.isFinite(Date.parse(event.time))) return [];
  if (event.type === 'sms.message.clicked') return clickFacts(event as PipelineEvent<ClickEventData>);
  if (event.type.startsWith('sms.message.')) return messageFacts(event as PipelineEvent<MessageEventData>, ctx);
  if (event.type === 'sms.inbound.received') return inboundFacts(event as PipelineEvent<InboundEventData>, ctx);
  if (event.type === 'sms.optout.added' || event.type === 'sms.optout.removed')
    return consentFacts(event as PipelineEvent<ConsentEventData>);
  if (event.type === 'sms.destination.refused') return refusalFacts(event as PipelineEvent<RefusalEventData>);
  return [];
}

function messageFacts(event: PipelineEvent<MessageEventData>, ctx: FactContext): AnalyticsFact[] {
  const d = event.data;
  if (!d || typeof d.from !== 'string') return [];
  const segments = Number.isInteger(d.segments) && d.segments > 0 ? d.segments : 1;
  const tally: Tally = {};
  // The first event of a message is its submit: queued, scheduled or suppressed at submit.
  if (!d.previousStatus) tally.submitted = 1;
  const handedOver = () => {
    tally.sent = 1;
    tally.segmentsSent = segments;
    tally.costMicros = costMicros(segments, pricePerSegment(ctx.prices, ctx.senderType(d.from), countryOf(d.to)));
  };
  switch (d.status) {
    case 'sent':
      handedOver();
      break;
    case 'delivered': {
      tally.delivered = 1;
      tally.segmentsDelivered = d.segmentsSucceeded ?? segments;
      // A report can overtake the sender's own "sent": then this is the first sign of the hand-over.
      if (!COUNTED_AS_SENT.has(d.previousStatus)) handedOver();
      if (d.sentAt) {
        const ms = Date.parse(d.eventTime ?? event.time) - Date.parse(d.sentAt);
        if (Number.isFinite(ms)) tally[latencyProperty(latencyBucket(Math.max(0, ms)))] = 1;
      }
      break;
    }
    case 'failed':
      tally.failed = 1;
      tally[failureCodeProperty(d.code)] = 1;
      // Failed by a delivery report (it carries ACS's message id) rather than refused at the hand-over.
      if (!COUNTED_AS_SENT.has(d.previousStatus) && d.acsMessageId) handedOver();
      break;
    case 'unknown':
      tally.unknown = 1;
      // Decided at once because its hand-over's outcome cannot be known (SEND_UNCERTAIN_POLICY).
      if (d.code === UNCERTAIN_HANDOVER_CODE) tally.uncertain = 1;
      // Unknown straight from "sending": the hand-over's outcome was never learnt; ACS may have it.
      if (!COUNTED_AS_SENT.has(d.previousStatus)) handedOver();
      break;
    case 'suppressed':
    case 'expired':
    case 'canceled':
    case 'held':
      tally[d.status] = 1;
      if (d.code === FREQUENCY_CAP_CODE) tally.frequencyCapped = 1;
      if (d.code === QUIET_HOURS_CODE) tally.quietHours = 1;
      break;
    case 'scheduled':
      // Scheduled at submit by the recipient's quiet hours (a time asked for is not counted).
      if (d.code === QUIET_HOURS_CODE) tally.quietHours = 1;
      break;
    default:
      break;
  }
  if (Object.keys(tally).length === 0) return [];
  return [
    {
      key: `e:${event.id}`,
      at: event.time,
      tag: d.tag ?? '',
      sender: d.from,
      template: d.template ? templateKey(d.template) : '',
      ...appField(d.app),
      tally,
    },
  ];
}

function inboundFacts(event: PipelineEvent<InboundEventData>, ctx: FactContext): AnalyticsFact[] {
  const d = event.data;
  if (!d || typeof d.to !== 'string') return [];
  const reply = d.inReplyTo;
  const tag = reply?.tag ?? '';
  // Replies and answers count under the template of the message answered, as under its tag.
  const template = reply?.template ?? '';
  const tally: Tally = { inbound: 1 };
  if (reply) tally.replies = 1;
  if (d.keyword === 'optOut') tally.optOuts = 1;
  else if (d.keyword === 'optIn') tally.optIns = 1;
  else if (d.keyword === 'help') tally.helpRequests = 1;
  const app = appField(d.app);
  const facts: AnalyticsFact[] = [{ key: `e:${event.id}`, at: event.time, tag, sender: d.to, template, ...app, tally }];
  // Answered: a message (not a STOP/START/HELP keyword) within the window after the hand-over. Keyed
  // by the message answered, so several replies count it once; counted in the hour it was sent, as
  // the delivered messages it is compared with are.
  if (reply?.messageId && reply.sentAt && !d.keyword) {
    const sentAt = Date.parse(reply.sentAt);
    const receivedAt = Date.parse(d.receivedAt ?? event.time);
    if (Number.isFinite(sentAt) && Number.isFinite(receivedAt) && receivedAt - sentAt <= ctx.responseWindowMs) {
      facts.push({ key: `a:${reply.messageId}`, at: reply.sentAt, tag, sender: d.to, template, ...app, tally: { answered: 1 } });
    }
  }
  return facts;
}

function consentFacts(event: PipelineEvent<ConsentEventData>): AnalyticsFact[] {
  const d = event.data;
  // A keyword opt-out or opt-in is counted from its inbound message, which also names the campaign.
  if (!d || d.source === 'keyword' || typeof d.sender !== 'string') return [];
  const tally: Tally = event.type === 'sms.optout.added' ? { optOuts: 1 } : { optIns: 1 };
  return [{ key: `e:${event.id}`, at: event.time, tag: '', sender: d.sender, template: '', ...appField(d.app), tally }];
}

/** A message's first click: counted in the hour the message went, as the delivered messages it is compared with are. */
function clickFacts(event: PipelineEvent<ClickEventData>): AnalyticsFact[] {
  const d = event.data;
  if (!d || typeof d.from !== 'string' || !Number.isFinite(Date.parse(d.sentAt))) return [];
  const seconds = Number.isFinite(d.secondsToClick) ? Math.max(0, Math.round(d.secondsToClick)) : 0;
  const tally = { uniqueClicks: 1, firstClickSeconds: seconds };
  return [
    {
      key: `e:${event.id}`,
      at: d.sentAt,
      tag: d.tag ?? '',
      sender: d.from,
      template: d.template ?? '',
      ...appField(d.app),
      tally,
    },
  ];
}

/** Recipients refused by the geo permissions, counted pool-wide ("*": no sender was chosen for them). */
function refusalFacts(event: PipelineEvent<RefusalEventData>): AnalyticsFact[] {
  const d = event.data;
  if (!d || !Number.isInteger(d.recipients) || d.recipients <= 0) return [];
  return [
    { key: `e:${event.id}`, at: event.time, tag: d.tag ?? '', sender: '*', template: '', tally: { geoRefused: d.recipients } },
  ];
}

// ---------- Buckets ----------

/** "2026-11-25T10": the UTC hour of a time. */
export function hourOf(at: string | Date): string {
  return new Date(at).toISOString().slice(0, 13);
}

/** "2026-11-25": the UTC day of a time. */
export function dayOf(at: string | Date): string {
  return new Date(at).toISOString().slice(0, 10);
}
