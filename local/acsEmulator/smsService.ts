// What the emulated ACS resource does with a valid request: per-recipient results with
// repeatability, delivery outcomes, inboxes, inbound texts with STOP/START, the opt-out list.
import { randomUUID } from 'node:crypto';
import type { DeliveryReportScheduler } from './deliveryReports.js';
import type { EventGridDelivery } from './eventDelivery.js';
import {
  CARRIER_OPT_OUT_CODE,
  OPT_IN_KEYWORDS as OPT_IN,
  OPT_OUT_KEYWORDS as OPT_OUT,
  REPEATABILITY,
  SDK_DEFAULT_API_VERSION,
} from '../../shared/domain/acsFacts.js';
import { smsReceivedEvent } from './events.js';
import type { FaultInjector } from './faults.js';
import { instant, statusDetails } from './forms.js';
import { isGuid, newIncomingMessageId, newOutgoingMessageId } from './messageIds.js';
import { isE164, maskPhone } from './phoneNumbers.js';
import { countSegments } from './segments.js';
import type { EmulatorSettings, FormSettings, SenderSettings } from './settings.js';
import type { EmulatorState, InboundRecord, SendRecord, SmsSendResponseItem } from './state.js';

/** The body of POST /sms after validation. */
export interface SendMessageRequest {
  from: string;
  smsRecipients: Array<{ to: string; repeatabilityRequestId?: string; repeatabilityFirstSent?: string }>;
  message: string;
  smsSendOptions?: { enableDeliveryReport?: boolean; tag?: string };
}

/** One item of an /sms/optouts response (OptOutResponseItem). */
export interface OptOutResponseItem {
  to: string;
  httpStatusCode: number;
  isOptedOut?: boolean;
  errorMessage?: string;
}

/** Keywords carriers and ACS treat as opt-out / opt-in (acsFacts.ts). Whole-message match. */
export const OPT_OUT_KEYWORDS: ReadonlySet<string> = new Set(OPT_OUT);
export const OPT_IN_KEYWORDS: ReadonlySet<string> = new Set(OPT_IN);

/** The default confirmations ACS documents for STOP and START (SMS concepts, opt-out handling). */
export const OPT_OUT_CONFIRMATION =
  'You have successfully been unsubscribed to messages from this number. Reply START to resubscribe.';
export const OPT_IN_CONFIRMATION =
  'You have successfully been re-subscribed to messages from this number. Reply STOP to unsubscribe.';

const RFC1123 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** ACS's own per-recipient error texts where known (REST spec examples); the rest are the emulator's. */
export const RECIPIENT_ERRORS = {
  invalidTo: 'Invalid To phone number format.',
  /** What the live service answered on 2024-12-10-preview for "+1425555012345" (recordings of Dec 2024). */
  unknownCountryCode: 'Unknown country code.',
  invalidFirstSent: REPEATABILITY.invalidFirstSent,
  invalidRequestId: 'Request sent with Invalid value for repeatability-request-id. Expected is a GUID.',
  missingRequestId: 'Request sent with repeatability-first-sent but without repeatability-request-id.',
  mismatch: 'Request sent with a repeatability-request-id already used for a different request.',
  repeated: 'Request with the same repeatability-request-id was already processed.',
  invalidOptOutRecipient: 'Invalid recipient phone number format',
} as const;

/** The per-recipient text for a number that is not E.164 (FormSettings.invalidToText). */
export function invalidToText(forms: FormSettings, apiVersion: string): string {
  const form =
    forms.invalidToText === 'auto'
      ? apiVersion === '2024-12-10-preview'
        ? 'unknownCountryCode'
        : 'invalidFormat'
      : forms.invalidToText;
  return form === 'unknownCountryCode' ? RECIPIENT_ERRORS.unknownCountryCode : RECIPIENT_ERRORS.invalidTo;
}

export function outsideWindowMessage(windowMs: number): string {
  const minutes = windowMs / 60_000;
  return `Repeatability first sent header not within ${Number.isInteger(minutes) ? minutes : minutes.toFixed(2)} minute window.`;
}

export class InboundError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InboundError';
  }
}

export class SmsService {
  constructor(
    private readonly deps: {
      settings: () => EmulatorSettings;
      state: EmulatorState;
      faults: FaultInjector;
      reports: DeliveryReportScheduler;
      delivery: EventGridDelivery;
      log: (line: string) => void;
    },
  ) {}

  sender(number: string): SenderSettings | undefined {
    return this.deps.settings().senders.find((s) => s.number === number);
  }

  /**
   * Handles the recipients of a valid, authorised, not rate-limited send. Returns one result per
   * recipient, in request order, and records them; new messages go to inboxes and get reports.
   */
  processSend(
    request: SendMessageRequest,
    context: { apiVersion: string; now: Date; responded: boolean },
  ): { results: SmsSendResponseItem[]; records: SendRecord[] } {
    const { settings, state } = this.deps;
    const s = settings();
    const nowMs = context.now.getTime();
    state.pruneRepeats(nowMs, s.repeatability.windowMs);
    const requestId = randomUUID();
    const enableDeliveryReport = request.smsSendOptions?.enableDeliveryReport ?? false;
    const tag = request.smsSendOptions?.tag;
    const results: SmsSendResponseItem[] = [];
    const records: SendRecord[] = [];

    for (const recipient of request.smsRecipients) {
      const { to, repeatabilityRequestId: repeatId, repeatabilityFirstSent: firstSent } = recipient;
      const record: SendRecord = {
        requestId,
        receivedAt: context.now.toISOString(),
        apiVersion: context.apiVersion,
        from: request.from,
        to,
        message: request.message,
        enableDeliveryReport,
        ...(tag !== undefined ? { tag } : {}),
        ...(repeatId !== undefined ? { repeatabilityRequestId: repeatId } : {}),
        ...(firstSent !== undefined ? { repeatabilityFirstSent: firstSent } : {}),
        result: { to, httpStatusCode: 0, successful: false },
        sent: false,
        repeated: false,
        responded: context.responded,
      };
      record.result = this.recipientResult(request, recipient, record, {
        enableDeliveryReport,
        tag,
        nowMs,
        now: context.now,
        apiVersion: context.apiVersion,
      });
      results.push(record.result);
      records.push(record);
      state.sends.push(record);
    }
    return { results, records };
  }

  private recipientResult(
    request: SendMessageRequest,
    recipient: SendMessageRequest['smsRecipients'][number],
    record: SendRecord,
    ctx: { enableDeliveryReport: boolean; tag: string | undefined; nowMs: number; now: Date; apiVersion: string },
  ): SmsSendResponseItem {
    const s = this.deps.settings();
    const { to, repeatabilityRequestId: repeatId, repeatabilityFirstSent: firstSent } = recipient;
    const rejected = (httpStatusCode: number, errorMessage: string, messageId?: string): SmsSendResponseItem => ({
      to,
      ...(messageId ? { messageId } : {}),
      httpStatusCode,
      repeatabilityResult: 'rejected',
      successful: false,
      errorMessage,
    });

    if (!isE164(to)) return { to, httpStatusCode: 400, successful: false, errorMessage: invalidToText(s.forms, ctx.apiVersion) };

    // Repeatability, per recipient: ACS's repeatable-requests rules, applied to the body fields.
    const repeatable = repeatId !== undefined || firstSent !== undefined;
    let firstSentMs = ctx.nowMs;
    if (repeatable) {
      if (repeatId === undefined || repeatId === '') return rejected(400, RECIPIENT_ERRORS.missingRequestId);
      if (!isGuid(repeatId)) return rejected(400, RECIPIENT_ERRORS.invalidRequestId);
      if (firstSent === undefined || !RFC1123.test(firstSent) || !Number.isFinite(Date.parse(firstSent))) {
        return rejected(400, RECIPIENT_ERRORS.invalidFirstSent);
      }
      firstSentMs = Date.parse(firstSent);
      const previous = this.deps.state.repeat(to, repeatId, ctx.nowMs, s.repeatability.windowMs);
      if (previous) {
        record.repeated = true;
        if (previous.from !== request.from || previous.message !== request.message)
          return rejected(400, RECIPIENT_ERRORS.mismatch);
        this.deps.log(`sms: repeated repeatability id for ${maskPhone(to)}: not sent again (${s.repeatability.repeated})`);
        if (s.repeatability.repeated === 'reject') return rejected(409, RECIPIENT_ERRORS.repeated, previous.result.messageId);
        return { ...previous.result };
      }
      if (ctx.nowMs - firstSentMs > s.repeatability.windowMs && s.repeatability.outsideWindow === 'reject') {
        return rejected(412, outsideWindowMessage(s.repeatability.windowMs));
      }
    }
    // An id accepted although its first-sent time was outside the window ('treatAsNew') starts a
    // fresh window now; otherwise the window runs from the client's first-sent time.
    const windowStart = ctx.nowMs - firstSentMs > s.repeatability.windowMs ? ctx.nowMs : firstSentMs;
    const remember = (result: SmsSendResponseItem): SmsSendResponseItem => {
      if (repeatable && repeatId) {
        this.deps.state.rememberRepeat(to, repeatId, {
          firstSentMs: windowStart,
          from: request.from,
          to,
          message: request.message,
          result: { ...result },
        });
      }
      return result;
    };
    const accepted = repeatable ? ({ repeatabilityResult: 'accepted' } as const) : {};

    const fault = this.deps.faults.handsetFault(to);
    if (fault?.kind === 'rejected') {
      return remember({
        to,
        httpStatusCode: fault.httpStatusCode,
        ...accepted,
        successful: false,
        ...(fault.errorMessage !== undefined ? { errorMessage: fault.errorMessage } : {}),
      });
    }

    const messageId = newOutgoingMessageId(s.forms, ctx.apiVersion, ctx.now);
    record.sent = true;
    const { segments } = countSegments(request.message);
    let code = 2000;
    let customDetails: string | undefined;
    if (this.deps.state.isOptedOut(request.from, to)) {
      code = CARRIER_OPT_OUT_CODE;
    } else if (fault?.kind === 'failed') {
      code = fault.code;
      customDetails = fault.details;
    }
    const delivered = code === 2000;
    record.outcome = delivered ? 'Delivered' : 'Failed';
    record.code = code;
    record.deliveryStatusDetails = statusDetails('coded', code, customDetails);
    if (delivered) {
      this.deps.state.deliverToHandset({
        messageId,
        from: request.from,
        to,
        message: request.message,
        receivedAt: ctx.now.toISOString(),
      });
    }
    this.deps.log(`sms: ${maskPhone(request.from)} -> ${maskPhone(to)} ${messageId} ${record.outcome} (${code})`);
    const attemptedAt = instant(ctx.nowMs);
    this.deps.reports.schedule(
      {
        messageId,
        from: request.from,
        to,
        deliveryStatus: record.outcome,
        code,
        ...(customDetails !== undefined ? { customDetails } : {}),
        // An opted-out recipient is blocked before any carrier attempt.
        attempts:
          code === CARRIER_OPT_OUT_CODE
            ? []
            : [{ at: attemptedAt, segmentsSucceeded: delivered ? segments : 0, segmentsFailed: delivered ? 0 : segments }],
        receivedAt: attemptedAt,
        ...(ctx.tag !== undefined ? { tag: ctx.tag } : {}),
        apiVersion: ctx.apiVersion,
      },
      ctx.enableDeliveryReport,
    );
    return remember({ to, messageId, httpStatusCode: 202, ...accepted, successful: true });
  }

  /**
   * A handset texts one of the resource's numbers. STOP-type keywords put (number, handset) on the
   * opt-out list and START/UNSTOP take it off, for the sender types in optOut.keywordTypes (all by
   * default); for the types in optOut.autoReplyTypes the emulator texts the standard confirmation
   * back. The SMSReceived event goes to subscribers in every case.
   */
  injectInbound(input: { from: string; to: string; message: string }, now: Date = new Date()): InboundRecord {
    const s = this.deps.settings();
    if (!isE164(input.from)) throw new InboundError('from', 'must be the handset number in E.164 format');
    const sender = this.sender(input.to);
    if (!sender) throw new InboundError('to', "must be one of the emulator's sender numbers");
    if (sender.type === 'alphanumeric') throw new InboundError('to', 'an alphanumeric sender id cannot receive messages');
    if (input.message.length === 0) throw new InboundError('message', 'must not be empty');

    const keyword = input.message.trim().replace(/\s+/g, ' ').toUpperCase();
    const inbound: InboundRecord = {
      messageId: newIncomingMessageId(s.forms, now),
      from: input.from,
      to: input.to,
      message: input.message,
      receivedTimestamp: now.toISOString(),
      receivedAt: instant(now.getTime()),
      segmentCount: countSegments(input.message).segments,
    };
    let reply: string | undefined;
    const managed = s.optOut.keywordTypes.includes(sender.type);
    if (OPT_OUT_KEYWORDS.has(keyword)) {
      inbound.keyword = 'optOut';
      if (managed) this.deps.state.optOut(input.to, input.from, 'keyword', now);
      reply = OPT_OUT_CONFIRMATION;
    } else if (OPT_IN_KEYWORDS.has(keyword)) {
      inbound.keyword = 'optIn';
      if (managed) this.deps.state.optIn(input.to, input.from);
      reply = OPT_IN_CONFIRMATION;
    }
    if (reply && s.optOut.autoReplyTypes.includes(sender.type)) {
      this.deps.state.deliverToHandset({
        messageId: newOutgoingMessageId(s.forms, SDK_DEFAULT_API_VERSION['1.1.0'], now),
        from: input.to,
        to: input.from,
        message: reply,
        receivedAt: now.toISOString(),
      });
    }
    this.deps.state.inbound.push(inbound);
    this.deps.log(
      `sms: inbound ${maskPhone(input.from)} -> ${maskPhone(input.to)} ${inbound.messageId}${inbound.keyword ? ` (${inbound.keyword})` : ''}`,
    );
    this.deps.delivery.publish(smsReceivedEvent(inbound, s.eventGrid.topic, s.forms));
    return inbound;
  }

  /** POST /sms/optouts:add|remove|check on the same list STOP/START maintain. */
  optOuts(
    action: 'add' | 'remove' | 'check',
    from: string,
    recipients: ReadonlyArray<{ to: string }>,
    now: Date = new Date(),
  ): OptOutResponseItem[] {
    return recipients.map(({ to }) => {
      if (!isE164(to)) return { to, httpStatusCode: 400, errorMessage: RECIPIENT_ERRORS.invalidOptOutRecipient };
      // A handset refused by a fault is refused here too (the spec examples show per-recipient 400/500).
      const fault = this.deps.faults.handsetFault(to);
      if (fault?.kind === 'rejected') {
        return {
          to,
          httpStatusCode: fault.httpStatusCode,
          ...(fault.errorMessage !== undefined ? { errorMessage: fault.errorMessage } : {}),
        };
      }
      if (action === 'add') this.deps.state.optOut(from, to, 'api', now);
      if (action === 'remove') this.deps.state.optIn(from, to);
      if (action === 'check') return { to, httpStatusCode: 200, isOptedOut: this.deps.state.isOptedOut(from, to) };
      return { to, httpStatusCode: 200 };
    });
  }
}
