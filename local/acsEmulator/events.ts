// Event Grid envelopes for ACS SMS events, field for field as the ACS "SMS events" reference
// shows them (id, topic, subject, data, eventType, dataVersion, metadataVersion, eventTime).
import { randomUUID } from 'node:crypto';
import type { DeliveryReport, InboundRecord } from './state.js';

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

export const SMS_DELIVERY_REPORT_RECEIVED = 'Microsoft.Communication.SMSDeliveryReportReceived';
export const SMS_RECEIVED = 'Microsoft.Communication.SMSReceived';
export const SUBSCRIPTION_VALIDATION = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/** "/phonenumber/18005550100": the resource's own number, without "+". */
function subjectFor(number: string): string {
  return `/phonenumber/${number.replace(/^\+/, '')}`;
}

/** The event id is the message id, as in the ACS example. */
export function deliveryReportEvent(report: DeliveryReport, topic: string): EventGridEvent<DeliveryReport> {
  const data: DeliveryReport = {
    messageId: report.messageId,
    from: report.from,
    to: report.to,
    deliveryStatus: report.deliveryStatus,
    deliveryStatusDetails: report.deliveryStatusDetails,
    deliveryAttempts: report.deliveryAttempts.map((a) => ({ ...a })),
    receivedTimestamp: report.receivedTimestamp,
    ...(report.tag !== undefined ? { tag: report.tag } : {}),
  };
  return {
    id: report.messageId,
    topic,
    subject: subjectFor(report.from),
    data,
    eventType: SMS_DELIVERY_REPORT_RECEIVED,
    dataVersion: '1.0',
    metadataVersion: '1',
    eventTime: report.receivedTimestamp,
  };
}

export interface SmsReceivedData {
  messageId: string;
  from: string;
  to: string;
  message: string;
  receivedTimestamp: string;
  segmentCount: number;
}

export function smsReceivedEvent(inbound: InboundRecord, topic: string): EventGridEvent<SmsReceivedData> {
  return {
    id: inbound.messageId,
    topic,
    subject: subjectFor(inbound.to),
    data: {
      messageId: inbound.messageId,
      from: inbound.from,
      to: inbound.to,
      message: inbound.message,
      receivedTimestamp: inbound.receivedTimestamp,
      segmentCount: inbound.segmentCount,
    },
    eventType: SMS_RECEIVED,
    dataVersion: '1.0',
    metadataVersion: '1',
    eventTime: inbound.receivedTimestamp,
  };
}

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
    dataVersion: '2',
    metadataVersion: '1',
    eventTime: new Date().toISOString(),
  };
}
