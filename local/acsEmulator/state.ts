// What the emulator remembers: accepted sends, handset inboxes, repeatability ids, the opt-out
// list, delivery reports, inbound messages and a request log. Plain in-memory data, no I/O.
import type { Instant } from './forms.js';
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

/**
 * The body of GET /deliveryReports/{id} (the spec's DeliveryReport), as the emulator writes it with
 * the current forms; also what the inspection helpers return.
 */
export interface DeliveryReport {
  deliveryStatus: 'Delivered' | 'Failed';
  /** "2000: No Error", "4007: Sender blocked for given recipient." or the text form (FormSettings). */
  deliveryStatusDetails: string;
  deliveryAttempts: DeliveryAttempt[];
  receivedTimestamp: string;
  tag?: string;
  messageId: string;
  from: string;
  to: string;
}

/** What the emulator knows about a delivery report; rendered per FormSettings when it goes out. */
export interface StoredReport {
  /** Exactly as POST /sms returned it: GET /deliveryReports/{id} answers this id only. */
  messageId: string;
  from: string;
  to: string;
  deliveryStatus: 'Delivered' | 'Failed';
  /** 2000 when delivered, else the failure code. */
  code: number;
  /** A handset fault's own text for the failure. */
  customDetails?: string;
  attempts: Array<{ at: Instant; segmentsSucceeded: number; segmentsFailed: number }>;
  /** Set when the report is released. */
  receivedAt: Instant;
  tag?: string;
  /** The api-version of the send (the id form depends on it). */
  apiVersion: string;
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
  /** The report's code (2000 when delivered). */
  code?: number;
  /** "<code>: <text>", for inspection. */
  deliveryStatusDetails?: string;
  /** Whether the response reached the client (false for injected timeouts). */
  responded: boolean;
}

export interface InboundRecord {
  messageId: string;
  from: string;
  to: string;
  message: string;
  /** ISO time to the millisecond, for inspection. */
  receivedTimestamp: string;
  /** The same to 100 ns, as events write it. */
  receivedAt: Instant;
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
  /** The sender number of a valid send request. */
  from?: string;
  /** The W3C `traceparent` header the client sent, if any (what a trace viewer would link the request to). */
  traceparent?: string;
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
  private readonly reports = new Map<string, StoredReport>();
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

  // -- delivery reports, by the id exactly as POST /sms returned it (the spec's GET example uses
  // one id for the path and the report's messageId; nothing says another form is accepted)
  storeReport(report: StoredReport): void {
    this.reports.set(report.messageId, report);
  }

  report(messageId: string): StoredReport | undefined {
    return this.reports.get(messageId);
  }

  /** The report whose id is `messageId` with any Outgoing_ prefix or _noam/_prod_nam suffix (inspection, 'anyDecoration'). */
  reportByAnyDecoration(messageId: string): StoredReport | undefined {
    const core = (id: string) => id.replace(/^Outgoing_/i, '').replace(/(_noam|_prod_nam)$/i, '');
    return this.report(messageId) ?? this.reportList().find((r) => core(r.messageId) === core(messageId));
  }

  reportList(): StoredReport[] {
    return [...this.reports.values()];
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
