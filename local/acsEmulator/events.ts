// ACS SMS events in both Event Grid delivery schemas, field for field as the published examples
// write them (test/fixtures/published/events/): the Event Grid schema (id, topic, subject, data,
// eventType, dataVersion, metadataVersion, eventTime) and CloudEvents 1.0 (source, subject, type,
// time, id, data, specversion), with the FormSettings choices applied to ids, numbers, casing,
// timestamps and deliveryStatusDetails. Also the GET /deliveryReports/{id} body.
import { randomUUID } from 'node:crypto';
import { EVENT_GRID } from '../../shared/domain/acsFacts.js';
import { eventNumbers, fraction7, instant, pascalCase, phone, statusDetails, timeWriters, type Instant } from './forms.js';
import { eventMessageId } from './messageIds.js';
import type { FormSettings } from './settings.js';
import type { DeliveryReport, InboundRecord, StoredReport } from './state.js';

export interface EventGridEvent<T = unknown> {
  id: string;
  topic: string;
  subject: string;
  data: T;
  eventType: string;
  dataVersion: string;
  metadataVersion: string;
  eventTime: string;
}

/** A CloudEvents 1.0 event as Event Grid writes it; the spec-version key is "specversion" or, in one example, "specVersion". */
export type CloudEvent<T = unknown> = {
  source: string;
  subject: string;
  type: string;
  time: string;
  id: string;
  data: T;
} & Record<string, unknown>;

/** One event, ready for either delivery schema. */
export interface PublishedEvent {
  id: string;
  eventType: string;
  eventGrid: EventGridEvent;
  cloudEvent: CloudEvent;
}

export const SMS_DELIVERY_REPORT_RECEIVED = 'Microsoft.Communication.SMSDeliveryReportReceived';
export const SMS_RECEIVED = 'Microsoft.Communication.SMSReceived';
export const SUBSCRIPTION_VALIDATION = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/** "/phonenumber/15555555555": the resource's own number, without "+" (every example). */
function subjectFor(number: string): string {
  return `/phonenumber/${phone(number, false)}`;
}

function envelope(
  forms: FormSettings,
  topic: string,
  id: string,
  type: string,
  subject: string,
  data: Record<string, unknown>,
  at: Instant,
): PublishedEvent {
  const times = timeWriters(forms);
  const body = forms.dataCasing === 'pascal' ? pascalCase(data) : data;
  return {
    id,
    eventType: type,
    eventGrid: {
      id,
      topic,
      subject,
      data: body,
      eventType: type,
      dataVersion: EVENT_GRID.smsEvent.dataVersion,
      metadataVersion: EVENT_GRID.smsEvent.metadataVersion,
      eventTime: times.eventTime(at),
    },
    cloudEvent: {
      source: topic,
      subject,
      type,
      time: times.cloudEventTime(at),
      id,
      data: body,
      [forms.cloudEventsSpecVersionKey]: '1.0',
    },
  };
}

/** SMSDeliveryReportReceived; the event id is the message id, as in the examples. */
export function deliveryReportEvent(report: StoredReport, topic: string, forms: FormSettings): PublishedEvent {
  const times = timeWriters(forms);
  const id = eventMessageId(report.messageId, forms);
  const numbers = eventNumbers(forms, 'report', report.from, report.to);
  const data: Record<string, unknown> = {
    messageId: id,
    from: numbers.from,
    to: numbers.to,
    deliveryStatus: report.deliveryStatus,
    deliveryStatusDetails: statusDetails(forms.deliveryStatusDetails.events, report.code, report.customDetails),
    receivedTimestamp: times.reportTime(report.receivedAt),
    deliveryAttempts: report.attempts.map((a) => ({
      timestamp: times.reportTime(a.at),
      segmentsSucceeded: a.segmentsSucceeded,
      segmentsFailed: a.segmentsFailed,
    })),
  };
  if (report.tag !== undefined) data[forms.tagProperty] = report.tag;
  return envelope(forms, topic, id, SMS_DELIVERY_REPORT_RECEIVED, subjectFor(report.from), data, report.receivedAt);
}

/** SMSReceived; subject is the resource's number that received the text. */
export function smsReceivedEvent(inbound: InboundRecord, topic: string, forms: FormSettings): PublishedEvent {
  const times = timeWriters(forms);
  const numbers = eventNumbers(forms, 'inbound', inbound.from, inbound.to);
  const data = {
    messageId: inbound.messageId,
    from: numbers.from,
    to: numbers.to,
    message: inbound.message,
    receivedTimestamp: times.inboundTime(inbound.receivedAt),
    segmentCount: inbound.segmentCount,
  };
  // The examples' eventTime comes two seconds after receivedTimestamp: the time Event Grid got it.
  return envelope(forms, topic, inbound.messageId, SMS_RECEIVED, subjectFor(inbound.to), data, inbound.receivedAt);
}

/** The GET /deliveryReports/{id} body: the spec's DeliveryReport, numbers with "+" and the path's id, as in its example. */
export function deliveryReportBody(report: StoredReport, forms: FormSettings): DeliveryReport {
  const times = timeWriters(forms);
  return {
    deliveryStatus: report.deliveryStatus,
    deliveryStatusDetails: statusDetails(forms.deliveryStatusDetails.get, report.code, report.customDetails),
    deliveryAttempts: report.attempts.map((a) => ({
      timestamp: times.getTime(a.at),
      segmentsSucceeded: a.segmentsSucceeded,
      segmentsFailed: a.segmentsFailed,
    })),
    receivedTimestamp: times.getTime(report.receivedAt),
    ...(report.tag !== undefined ? { tag: report.tag } : {}),
    messageId: report.messageId,
    from: phone(report.from, true),
    to: phone(report.to, true),
  };
}

/** The SubscriptionValidationEvent as the webhook-event-delivery page shows it (dataVersion "1"). */
export function subscriptionValidationEvent(
  topic: string,
  validationCode: string,
  validationUrl: string,
): EventGridEvent<{ validationCode: string; validationUrl: string }> {
  return {
    id: randomUUID(),
    topic,
    subject: '',
    data: { validationCode, validationUrl },
    eventType: SUBSCRIPTION_VALIDATION,
    eventTime: fraction7(instant()),
    metadataVersion: EVENT_GRID.validationEvent.metadataVersion,
    dataVersion: EVENT_GRID.validationEvent.dataVersion,
  };
}
