// What the emulator remembers: accepted sends, handset inboxes, repeatability ids, the opt-out
// list, delivery reports, inbound messages and a request log. Plain in-memory data, no I/O.
import { stripMessageIdPrefix } from './messageIds.js';
import type { RequestFault } from './settings.js';

/** One recipient's result in a 202 from POST /sms (wire shape of SmsSendResponseItem). */
export interface SmsSendResponseItem {
  to: string;
  messageId?: string;
  httpStatusCode: number;
  repeatabilityResult?: 'accepted' | 'rejected';
  successful: boolean;
  errorMessage?: string;
}

export interface DeliveryAttempt {
  timestamp: string;
  segmentsSucceeded: number;
  segmentsFailed: number;
}

/** A delivery report: the data of SMSDeliveryReportReceived and the body of GET /deliveryReports/{id}. */
export interface DeliveryReport {
  messageId: string;
  from: string;
  to: string;
  deliveryStatus: 'Delivered' | 'Failed';
  /** "<code>: <text>", e.g. "2000: No Error" or "4007: Sender blocked for given recipient." */
  deliveryStatusDetails: string;
  deliveryAttempts: DeliveryAttempt[];
  receivedTimestamp: string;
  tag?: string;
}

/** A text as a handset received it. */
export interface InboxMessage {
  messageId: string;
  from: string;
  to: string;
  message: string;
  receivedAt: string;
}

/** One recipient of one POST /sms that the emulator answered with 202. */
export interface SendRecord {
  /** The emulator's id for the HTTP request (shared by the recipients of one request). */
  requestId: string;
  receivedAt: string;
  apiVersion: string;
  from: string;
  to: string;
  message: string;
  enableDeliveryReport: boolean;
  tag?: string;
  repeatabilityRequestId?: string;
  repeatabilityFirstSent?: string;
  /** Exactly what the response said for this recipient. */
  result: SmsSendResponseItem;
  /** True when this request handed a new message to the (emulated) carrier. */
  sent: boolean;
  /** True when the result repeats an earlier one for the same repeatability id. */
  repeated: boolean;
  /** Final outcome of a sent message. */
  outcome?: 'Delivered' | 'Failed';
  deliveryStatusDetails?: string;
  /** Whether the response reached the client (false for injected timeouts). */
  responded: boolean;
}

export interface InboundRecord {
  messageId: string;
  from: string;
  to: string;
  message: string;
  receivedTimestamp: string;
  segmentCount: number;
  /** The opt-out keyword effect, when the text was one. */
  keyword?: 'optOut' | 'optIn';
}

export interface OptOutEntry {
  from: string;
  to: string;
  at: string;
  source: 'keyword' | 'api';
}

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  /** HTTP status answered, or 'no-response' for a destroyed socket. */
  status: number | 'no-response';
  fault?: RequestFault | 'rateLimit';
  recipients?: number;
}

/** What a repeatability id stands for, remembered for the window after its first-sent time. */
export interface RepeatRecord {
  firstSentMs: number;
  from: string;
  to: string;
  message: string;
  result: SmsSendResponseItem;
}

const MAX_REQUEST_LOG = 2000;

export class EmulatorState {
  readonly sends: SendRecord[] = [];
  readonly requests: RequestLogEntry[] = [];
  readonly inbound: InboundRecord[] = [];
  private readonly inboxes = new Map<string, InboxMessage[]>();
  private readonly optOuts = new Map<string, OptOutEntry>();
  private readonly reports = new Map<string, DeliveryReport>();
  private readonly repeats = new Map<string, RepeatRecord>();
  private lastPrune = 0;

  // -- inboxes
  deliverToHandset(message: InboxMessage): void {
    const list = this.inboxes.get(message.to) ?? [];
    list.push(message);
    this.inboxes.set(message.to, list);
  }

  inbox(phone: string): InboxMessage[] {
    return [...(this.inboxes.get(phone) ?? [])];
  }

  // -- opt-outs, keyed (sender, handset)
  isOptedOut(from: string, to: string): boolean {
    return this.optOuts.has(`${from}|${to}`);
  }

  optOut(from: string, to: string, source: OptOutEntry['source'], at: Date): void {
    const key = `${from}|${to}`;
    if (!this.optOuts.has(key)) this.optOuts.set(key, { from, to, at: at.toISOString(), source });
  }

  optIn(from: string, to: string): boolean {
    return this.optOuts.delete(`${from}|${to}`);
  }

  optOutList(): OptOutEntry[] {
    return [...this.optOuts.values()];
  }

  // -- delivery reports, found by the full id or the id without "Outgoing_"
  storeReport(report: DeliveryReport): void {
    this.reports.set(report.messageId, report);
    this.reports.set(stripMessageIdPrefix(report.messageId), report);
  }

  report(messageId: string): DeliveryReport | undefined {
    return this.reports.get(messageId) ?? this.reports.get(stripMessageIdPrefix(messageId));
  }

  reportList(): DeliveryReport[] {
    return [...new Set(this.reports.values())];
  }

  // -- repeatability, per (recipient, id)
  repeat(to: string, requestId: string, now: number, windowMs: number): RepeatRecord | undefined {
    const key = `${to}|${requestId.toLowerCase()}`;
    const record = this.repeats.get(key);
    if (record && now > record.firstSentMs + windowMs) {
      this.repeats.delete(key);
      return undefined;
    }
    return record;
  }

  rememberRepeat(to: string, requestId: string, record: RepeatRecord): void {
    this.repeats.set(`${to}|${requestId.toLowerCase()}`, record);
  }

  /** Forgets ids whose window has passed, so a long-running emulator does not grow without bound. */
  pruneRepeats(now: number, windowMs: number): void {
    // At most once a second: a benchmark sending thousands of requests should not pay O(n) each.
    if (now - this.lastPrune < 1000) return;
    this.lastPrune = now;
    for (const [key, record] of this.repeats) if (now > record.firstSentMs + windowMs) this.repeats.delete(key);
  }

  logRequest(entry: RequestLogEntry): void {
    this.requests.push(entry);
    if (this.requests.length > MAX_REQUEST_LOG) this.requests.splice(0, this.requests.length - MAX_REQUEST_LOG);
  }

  clear(): void {
    this.sends.length = 0;
    this.requests.length = 0;
    this.inbound.length = 0;
    this.inboxes.clear();
    this.optOuts.clear();
    this.reports.clear();
    this.repeats.clear();
    this.lastPrune = 0;
  }
}
