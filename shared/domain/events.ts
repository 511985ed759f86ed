// The pipeline's own events, as CloudEvents 1.0: what the app is told (webhooks, Event Grid topic)
// and what analytics counts. One change of the world is one event with a deterministic id, so a
// change recorded twice (a redelivered job, a duplicate report) is the same event, never a second.
import { appOf } from './apps.js';
import type { MessageRecord, StatusChange } from './message.js';
import { MESSAGE_STATUSES, type MessageStatus } from './messageStatus.js';
import type { TemplateRef } from './template.js';

/** Keyword classes of an inbound message (see domain/keywords.ts); null: an ordinary message. */
export type InboundKeyword = 'optOut' | 'optIn' | 'help' | null;

export type MessageEventType = `sms.message.${MessageStatus}`;

/** The fraud and spend guard's events (their data: domain/guardEvents.ts). */
export const GUARD_EVENT_TYPES = [
  'sms.budget.reached',
  'sms.hold.placed',
  'sms.hold.released',
  'sms.destination.refused',
  'sms.sending.paused',
  'sms.sending.resumed',
] as const;
export type GuardEventType = (typeof GUARD_EVENT_TYPES)[number];

export type PipelineEventType =
  MessageEventType | 'sms.message.clicked' | 'sms.inbound.received' | 'sms.optout.added' | 'sms.optout.removed' | GuardEventType;

/** Every event type the pipeline publishes (what a destination's type filter may name). */
export const PIPELINE_EVENT_TYPES: readonly PipelineEventType[] = [
  ...MESSAGE_STATUSES.map((s): MessageEventType => `sms.message.${s}`),
  'sms.message.clicked',
  'sms.inbound.received',
  'sms.optout.added',
  'sms.optout.removed',
  ...GUARD_EVENT_TYPES,
];

/** A CloudEvents 1.0 event in structured JSON form. */
export interface PipelineEvent<T = MessageEventData | ClickEventData | InboundEventData | ConsentEventData | GuardEventData> {
  specversion: '1.0';
  /** Deterministic: the same change always gets the same id (receivers dedupe on it). */
  id: string;
  /** Identifies this pipeline deployment, e.g. "/sms-pipeline/<app name>". */
  source: string;
  type: PipelineEventType;
  /** "messages/<messageId>", "inbound/<acsMessageId>" or "opt-outs/<sender>". */
  subject: string;
  /** When the change was recorded (stable: taken from the stored record, not from the clock). */
  time: string;
  datacontenttype: 'application/json';
  data: T;
}

/** data of sms.message.* events: the message after the change. */
export interface MessageEventData {
  messageId: string;
  batchId: string;
  /** The app the message was sent for (docs/security.md "Apps"): "default" unless SMS_APPS or a token names one. */
  app?: string;
  status: MessageStatus;
  previousStatus?: MessageStatus;
  from: string;
  to: string;
  tag?: string;
  metadata?: Record<string, string>;
  /** The app's own id of the message, as it gave it. */
  reference?: string;
  /** The template the text was rendered from. */
  template?: TemplateRef;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  acsMessageId?: string;
  /** ACS deliveryStatusDetails code or HTTP status, when there is one. */
  code?: string;
  reason?: string;
  /** When it was handed to ACS (set from `sent` on), for latency. */
  sentAt?: string;
  /** The carrier's time of the final report, when ACS gave one. */
  eventTime?: string;
  /** Segments the carrier reported delivered / failed (summed over delivery attempts). */
  segmentsSucceeded?: number;
  segmentsFailed?: number;
}

/** data of sms.message.clicked: the first click of a person on one of a message's tracked links (domain/linkEvents.ts). */
export interface ClickEventData {
  messageId: string;
  batchId: string;
  /** The app the message was sent for (absent on links older than apps). */
  app?: string;
  /** Our number that sent it. */
  from: string;
  tag?: string;
  /** "name@version" of the template the text was rendered from. */
  template?: string;
  reference?: string;
  /** The URL as it was in the text, and where the link led. */
  url: string;
  target: string;
  clickedAt: string;
  /** When the message was to go (scheduled, else accepted), and the seconds from then to the click. */
  sentAt: string;
  secondsToClick: number;
}

/** data of sms.inbound.received: every inbound message, keyword or not, is forwarded. */
export interface InboundEventData {
  /** ACS's id of the inbound message. */
  inboundMessageId: string;
  /** The app the text is for: the owner of our number (SMS_APPS senders), else the app of the message it answers, else "default". */
  app?: string;
  /** The person. */
  from: string;
  /** Our number. */
  to: string;
  message: string;
  keyword: InboundKeyword;
  receivedAt: string;
  /** The last outbound message from `to` to `from` before this one: what it answers. */
  inReplyTo?: { messageId: string; batchId: string; app?: string; tag?: string; template?: string; sentAt?: string };
}

/** data of sms.optout.added / sms.optout.removed. */
export interface ConsentEventData {
  /** The app whose number received the STOP / START, or that called the API; absent: not one app's. */
  app?: string;
  /** The person. */
  recipient: string;
  /** Our number, or "*" for the whole pool. */
  sender: string;
  source: 'keyword' | 'api' | 'carrier';
  keyword?: string;
  reason?: string;
  inboundMessageId?: string;
}

/** data of sms.budget.reached: a limit crossed 80 % or reached (100 %, or a request refused for it). */
export interface BudgetEventData {
  /** "pool", or the tag or the app (SMS_APPS budgets) the limit is for. */
  scope: 'pool' | 'tag' | 'app';
  tag?: string;
  app?: string;
  period: 'day' | 'month';
  periodStart: string;
  periodEnd: string;
  metric: 'messages' | 'cost';
  threshold: 80 | 100;
  /** In messages, or in the currency for cost. */
  limit: number;
  spent: number;
  currency?: string;
}

/** data of sms.hold.placed / sms.hold.released: a fraud hold (GET /api/holds/{id} has the same fields). */
export interface HoldEventData {
  holdId: string;
  country: string;
  prefix?: string;
  tags?: string[];
  rule: 'burst' | 'conversions';
  reason: 'fraudSuspected';
  detail: string;
  placedAt: string;
  releasedAt?: string;
  releaseNote?: string;
  heldMessages?: 'send' | 'cancel';
}

/** data of sms.destination.refused: recipients refused at submit by geo permissions, per country. */
export interface RefusalEventData {
  rule: 'geo';
  /** ISO 3166-1 alpha-2, or "XX" when the number has no country. */
  country: string;
  recipients: number;
  tag?: string;
  /** The batch that was accepted without them (partial requests). */
  batchId?: string;
}

/** data of sms.sending.paused / sms.sending.resumed. */
export interface SendingEventData {
  scope: 'pool' | 'sender' | 'tag';
  sender?: string;
  tag?: string;
  reason?: string;
  at: string;
}

export type GuardEventData = BudgetEventData | HoldEventData | RefusalEventData | SendingEventData;

/** The app an event is for (its data.app); undefined for events of no one app (the guard's). */
export function eventApp(event: PipelineEvent): string | undefined {
  const app = (event.data as { app?: unknown }).app;
  return typeof app === 'string' ? app : undefined;
}

/** The event for the latest status change of a saved record. */
export function messageEvent(source: string, record: MessageRecord): PipelineEvent<MessageEventData> {
  return messageEventAt(source, record, record.history.length - 1);
}

/** The events of every change of a record from history index `from` on (a record created and moved on in one write). */
export function messageEventsSince(source: string, record: MessageRecord, from: number): Array<PipelineEvent<MessageEventData>> {
  const events: Array<PipelineEvent<MessageEventData>> = [];
  for (let i = Math.max(0, from); i < record.history.length; i++) events.push(messageEventAt(source, record, i));
  return events;
}

/**
 * The event of history entry `index`: the message as it was right after that change. Its id is
 * "<messageId>.<status>", and "<messageId>.<status>.<n>" for the n-th time a message enters the
 * same status (a dead letter replayed back to "queued"), so every change has an id of its own and
 * the same change always has the same id.
 */
function messageEventAt(source: string, record: MessageRecord, index: number): PipelineEvent<MessageEventData> {
  const change = record.history[index]!;
  const upTo = record.history.slice(0, index + 1);
  const previous = upTo.at(-2);
  const sent = upTo.find((h) => h.status === 'sent');
  const attempts = change.deliveryAttempts ?? [];
  const occurrence = upTo.filter((h) => h.status === change.status).length;
  const data: MessageEventData = {
    messageId: record.messageId,
    batchId: record.batchId,
    app: appOf(record),
    status: change.status,
    ...(previous ? { previousStatus: previous.status } : {}),
    from: record.from,
    to: record.to,
    ...(record.tag ? { tag: record.tag } : {}),
    ...(record.metadata ? { metadata: record.metadata } : {}),
    ...(record.reference ? { reference: record.reference } : {}),
    ...(record.template ? { template: record.template } : {}),
    encoding: record.encoding,
    segments: record.segments,
    ...(record.acsMessageId ? { acsMessageId: record.acsMessageId } : {}),
    ...(change.code ? { code: change.code } : {}),
    ...(change.reason ? { reason: change.reason } : {}),
    ...(sent ? { sentAt: sent.at } : {}),
    ...(change.eventTime ? { eventTime: change.eventTime } : {}),
    ...(attempts.length > 0
      ? {
          segmentsSucceeded: attempts.reduce((n, a) => n + a.segmentsSucceeded, 0),
          segmentsFailed: attempts.reduce((n, a) => n + a.segmentsFailed, 0),
        }
      : {}),
  };
  const id = `${record.messageId}.${change.status}${occurrence > 1 ? `.${occurrence}` : ''}`;
  return cloudEvent(source, `sms.message.${change.status}`, `messages/${record.messageId}`, id, change, data);
}

function cloudEvent<T>(
  source: string,
  type: PipelineEventType,
  subject: string,
  id: string,
  change: StatusChange,
  data: T,
): PipelineEvent<T> {
  return { specversion: '1.0', id, source, type, subject, time: change.at, datacontenttype: 'application/json', data };
}

/** sms.inbound.received for one inbound text; the id comes from ACS's message id, so a redelivery is the same event. */
export function inboundEvent(source: string, data: InboundEventData): PipelineEvent<InboundEventData> {
  return {
    specversion: '1.0',
    id: `inbound.${data.inboundMessageId}`,
    source,
    type: 'sms.inbound.received',
    subject: `inbound/${data.inboundMessageId}`,
    time: data.receivedAt,
    datacontenttype: 'application/json',
    data,
  };
}

/** sms.optout.added / removed for one change of the consent log (`changeId` is the log entry's id). */
export function consentEvent(
  source: string,
  change: { changeId: string; action: 'optOut' | 'optIn'; at: string } & ConsentEventData,
): PipelineEvent<ConsentEventData> {
  const { changeId, action, at, ...data } = change;
  const added = action === 'optOut';
  return {
    specversion: '1.0',
    id: `consent.${changeId}.${added ? 'added' : 'removed'}`,
    source,
    type: added ? 'sms.optout.added' : 'sms.optout.removed',
    subject: `opt-outs/${data.sender}`,
    time: at,
    datacontenttype: 'application/json',
    data,
  };
}
