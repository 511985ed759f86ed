// In-memory fakes of every port, for unit tests of the use cases, and fakeServices(): a complete
// set of them shaped like the composition root's Services, so a test builds a use case's deps with
// the same depsOf() the function app uses and cannot forget one. The fakes keep the semantics that
// matter (etag conflicts, idempotent inserts, batch partitions); the port contract suites in
// test/contract/ports run the same checks against them and against the real adapters.
import { phoneTimeZones } from '../../shared/adapters/phoneData/timeZoneLookup.js';
import { DEFAULT_QUIET_HOURS, parseQuietHours } from '../../shared/domain/quietHours.js';
import { DEFAULT_RETENTION } from '../../shared/domain/retention.js';
import type { SendRules } from '../../shared/domain/sendRules.js';
import type { FrequencyCapLedger, TimeZoneLookup } from '../../shared/ports/sendRules.js';
import { FakeFrequencyCapLedger, FakeRetentionStore } from './sendRuleFakes.js';
import type { Config } from '../../shared/config.js';
import type { Services } from '../../shared/composition.js';
import type { AnalyticsFact } from '../../shared/domain/analytics.js';
import type { AnalyticsRow } from '../../shared/domain/analyticsReport.js';
import type { ConsentChange, ConsentLogEntry, ConsentState, OptOutEntry } from '../../shared/domain/consent.js';
import type { ThreadEntry } from '../../shared/domain/conversation.js';
import type { DeadLetter } from '../../shared/domain/deadLetter.js';
import type { PipelineEvent } from '../../shared/domain/events.js';
import type { MessageRecord } from '../../shared/domain/message.js';
import { acsMessageKey } from '../../shared/domain/ids.js';
import type { OutboxMessage } from '../../shared/domain/outbox.js';
import type { Sender } from '../../shared/domain/sender.js';
import type { SendJob } from '../../shared/domain/sendJob.js';
import type { AnalyticsReadQuery, AnalyticsStore } from '../../shared/ports/analytics.js';
import type { ConsentLog, OptOutStore } from '../../shared/ports/consent.js';
import type { ConversationStore } from '../../shared/ports/conversations.js';
import type { DeadLetterStore, TransportDeadLetters } from '../../shared/ports/deadLetters.js';
import { observeQueues } from '../../shared/adapters/telemetry/queueObserver.js';
import { ConcurrencyError, InvalidContinuationTokenError } from '../../shared/ports/errors.js';
import type { EventDestination, EventOutbox, EventPublisher, StatusEventSink } from '../../shared/ports/events.js';
import {
  GatewayError,
  type GatewayDeliveryReport,
  type GatewayRecipientResult,
  type GatewaySendRequest,
  type SmsGateway,
} from '../../shared/ports/gateway.js';
import type { MessageStore } from '../../shared/ports/messages.js';
import type { RateLimiter } from '../../shared/ports/pacing.js';
import type { Page } from '../../shared/ports/paging.js';
import type { OutboundQueue } from '../../shared/ports/queue.js';
import type { Clock, Logger } from '../../shared/ports/runtime.js';
import type { SubmissionStore } from '../../shared/ports/submissions.js';
import type { Submission } from '../../shared/domain/submission.js';
import type { Template } from '../../shared/domain/template.js';
import type { TemplateHead, TemplateStore } from '../../shared/ports/templates.js';
import type { DeliveryTracker, ParkedReport, TrackedMessage } from '../../shared/ports/tracking.js';
import type { CarrierConsentDeps } from '../../shared/pipeline/deliveryReports.js';
import { publishingSink } from '../../shared/pipeline/statusEvents.js';
import { eventPublisher } from '../../shared/pipeline/dispatchEvents.js';
import { DEFAULT_INBOUND_POLICY } from '../../shared/domain/inboundPolicy.js';
import { mergePrices } from '../../shared/domain/pricing.js';
import { MemoryIdempotencyStore } from '../support/memoryIdempotencyStore.js';
import { DEFAULT_PUMPING_POLICY } from '../../shared/domain/fraudWatch.js';
import { defaultAllowedCountries } from '../../shared/domain/geo.js';
import { FakeBudgetLedger, FakeFraudWatch, FakeSendingControls } from './guardFakes.js';
import { FakeLinkStore, TEST_LINK_POLICY } from './linkFakes.js';

export { FakeBudgetLedger, FakeFraudWatch, FakeSendingControls, openGuard } from './guardFakes.js';

const clone = <T>(v: T): T => structuredClone(v);

export class FakeClock implements Clock {
  constructor(public time = new Date('2026-11-25T10:00:00Z').getTime()) {}
  now() {
    return new Date(this.time);
  }
  async sleep(ms: number) {
    this.time += Math.max(0, ms);
  }
  advance(ms: number) {
    this.time += ms;
  }
}

export class FakeMessageStore implements MessageStore {
  readonly rows = new Map<string, MessageRecord>();
  readonly acsIndex = new Map<string, string>();
  private version = 0;
  /** Called before each saveAll/save; lets a test change a record "concurrently". */
  beforeSave?: () => void;

  private put(record: MessageRecord) {
    const stored = clone(record);
    stored.etag = `v${++this.version}`;
    this.rows.set(record.messageId, stored);
    record.etag = stored.etag;
  }
  async insertBatch(records: MessageRecord[]) {
    for (const r of records) if (!this.rows.has(r.messageId)) this.put(r);
  }
  async get(id: string) {
    const r = this.rows.get(id);
    return r ? clone(r) : undefined;
  }
  async getMany(batchId: string, ids: readonly string[]) {
    const map = new Map<string, MessageRecord>();
    for (const id of ids) {
      const r = this.rows.get(id);
      if (r && r.batchId === batchId) map.set(id, clone(r));
    }
    return map;
  }
  async findByReference(reference: string, options: { limit: number; continuationToken?: string }): Promise<Page<MessageRecord>> {
    const all = [...this.rows.values()]
      .filter((r) => r.reference === reference)
      .sort((a, b) => a.messageId.localeCompare(b.messageId));
    const start = options.continuationToken ? Number(options.continuationToken) : 0;
    const end = start + options.limit;
    return { items: all.slice(start, end).map(clone), ...(end < all.length ? { continuationToken: String(end) } : {}) };
  }
  async findInBatchByRecipient(batchId: string, to: string) {
    for (const r of this.rows.values()) if (r.batchId === batchId && r.to === to) return clone(r);
    return undefined;
  }
  async listBatch(batchId: string, options: { limit: number; continuationToken?: string }): Promise<Page<MessageRecord>> {
    const all = [...this.rows.values()]
      .filter((r) => r.batchId === batchId)
      .sort((a, b) => a.messageId.localeCompare(b.messageId));
    const start = options.continuationToken ? Number(options.continuationToken) : 0;
    const end = start + options.limit;
    return { items: all.slice(start, end).map(clone), ...(end < all.length ? { continuationToken: String(end) } : {}) };
  }
  async saveAll(records: MessageRecord[]) {
    const hook = this.beforeSave;
    this.beforeSave = undefined;
    hook?.();
    for (const r of records) {
      const current = this.rows.get(r.messageId);
      if (r.etag ? current?.etag !== r.etag : current) throw new ConcurrencyError();
    }
    for (const r of records) this.put(r);
  }
  async save(record: MessageRecord) {
    await this.saveAll([record]);
  }
  /** By key (acsMessageKey), as the table store keeps it. */
  async indexAcsMessageIds(entries: ReadonlyArray<{ acsMessageId: string; messageId: string }>) {
    for (const e of entries) this.acsIndex.set(acsMessageKey(e.acsMessageId), e.messageId);
  }
  async messageIdForAcsMessageId(id: string) {
    return this.acsIndex.get(acsMessageKey(id));
  }
  async listByRecipient(to: string) {
    return [...this.rows.values()].filter((r) => r.to === to).map(clone);
  }
  async ping() {}
}

export class FakeQueue implements OutboundQueue {
  readonly jobs: SendJob[] = [];
  /** When each job in `jobs` was put (ms), for the queue-age probe. */
  private readonly putAt: number[] = [];
  constructor(private readonly now: () => number = Date.now) {}
  async enqueue(jobs: readonly SendJob[]) {
    this.jobs.push(...jobs.map(clone));
    this.putAt.push(...jobs.map(() => this.now()));
  }
  async ping() {}
  take(): SendJob | undefined {
    this.putAt.shift();
    return this.jobs.shift();
  }
  /** Seconds the oldest waiting job has waited (a job not yet due counts from its notBefore). */
  oldestAgeSeconds(): number {
    const now = this.now();
    const ages = this.jobs.map(
      (job, i) => (now - Math.max(this.putAt[i] ?? now, job.notBefore ? Date.parse(job.notBefore) : 0)) / 1000,
    );
    return Math.max(0, ...ages);
  }
}

export class FakeOptOuts implements OptOutStore {
  readonly entries = new Set<string>();
  readonly details = new Map<string, OptOutEntry>();
  async optedOut(sender: string, recipients: readonly string[]) {
    return new Set(recipients.filter((r) => this.entries.has(`${sender}|${r}`) || this.entries.has(`*|${r}`)));
  }
  async add(change: ConsentChange) {
    const key = `${change.sender}|${change.recipient}`;
    this.entries.add(key);
    const { sender, recipient, source, keyword, reason, inboundMessageId, at } = change;
    this.details.set(key, {
      sender,
      recipient,
      source,
      at,
      ...(keyword ? { keyword } : {}),
      ...(reason ? { reason } : {}),
      ...(inboundMessageId ? { inboundMessageId } : {}),
    });
  }
  async remove(change: ConsentChange) {
    this.entries.delete(`${change.sender}|${change.recipient}`);
    this.details.delete(`${change.sender}|${change.recipient}`);
  }
  async find(recipient: string, senders: readonly string[]) {
    return [...new Set(senders)].flatMap((s) => {
      const key = `${s}|${recipient}`;
      if (!this.entries.has(key)) return [];
      return [this.details.get(key) ?? { sender: s, recipient, source: 'api' as const, at: '2026-01-01T00:00:00.000Z' }];
    });
  }
  async list(options: { sender?: string; limit: number; continuationToken?: string }) {
    const all = [...this.entries]
      .map(
        (k) =>
          this.details.get(k) ?? {
            sender: k.split('|')[0]!,
            recipient: k.split('|')[1]!,
            source: 'api' as const,
            at: '2026-01-01T00:00:00.000Z',
          },
      )
      .filter((e) => options.sender === undefined || e.sender === options.sender)
      .sort((a, b) => `${a.sender}|${a.recipient}`.localeCompare(`${b.sender}|${b.recipient}`));
    let start = 0;
    if (options.continuationToken !== undefined) {
      start = Number(options.continuationToken.replace(/^fake-/, ''));
      if (!options.continuationToken.startsWith('fake-') || !Number.isInteger(start)) throw new InvalidContinuationTokenError();
    }
    const items = all.slice(start, start + options.limit);
    return { items, ...(start + options.limit < all.length ? { continuationToken: `fake-${start + options.limit}` } : {}) };
  }
}

export class FakeConsentLog implements ConsentLog {
  readonly entries: ConsentLogEntry[] = [];
  readonly states = new Map<string, ConsentState>();
  private version = 0;
  async append(entry: ConsentLogEntry) {
    if (!this.entries.some((e) => e.recipient === entry.recipient && e.id === entry.id)) this.entries.push(clone(entry));
  }
  async history(recipient: string, options: { limit: number; continuationToken?: string }) {
    const mine = this.entries.filter((e) => e.recipient === recipient).sort((a, b) => a.at.localeCompare(b.at));
    const start = options.continuationToken ? Number(options.continuationToken) : 0;
    return {
      items: mine.slice(start, start + options.limit).map(clone),
      ...(start + options.limit < mine.length ? { continuationToken: String(start + options.limit) } : {}),
    };
  }
  async state(recipient: string, sender: string) {
    const s = this.states.get(`${recipient}|${sender}`);
    return s ? clone(s) : undefined;
  }
  async saveState(recipient: string, sender: string, state: ConsentState) {
    const current = this.states.get(`${recipient}|${sender}`);
    if (state.etag ? current?.etag !== state.etag : current) throw new ConcurrencyError();
    const stored = { ...clone(state), etag: `s${++this.version}` };
    this.states.set(`${recipient}|${sender}`, stored);
    state.etag = stored.etag;
  }
}

/** Conversations in memory, with the adapter's ordering: newest first per (our, their) thread. */
export class FakeConversations implements ConversationStore {
  readonly entries = new Map<string, ThreadEntry>();
  /** Calls of recordOutbound: what the send path costs. */
  readonly outboundWrites: number[] = [];
  private key(e: Pick<ThreadEntry, 'ourNumber' | 'theirNumber' | 'at' | 'direction' | 'messageId' | 'inboundMessageId'>) {
    return `${e.ourNumber}|${e.theirNumber}|${e.at}|${e.direction}|${e.messageId ?? e.inboundMessageId}`;
  }
  async recordOutbound(entries: readonly ThreadEntry[]) {
    this.outboundWrites.push(entries.length);
    for (const e of entries) this.entries.set(this.key(e), clone(e));
  }
  async saveInbound(entry: ThreadEntry) {
    this.entries.set(this.key(entry), clone(entry));
  }
  async getInbound(ourNumber: string, theirNumber: string, at: string, inboundMessageId: string) {
    const e = this.entries.get(this.key({ ourNumber, theirNumber, at, direction: 'inbound', inboundMessageId }));
    return e ? clone(e) : undefined;
  }
  private threadOf(ourNumber: string, theirNumber: string) {
    return [...this.entries.values()]
      .filter((e) => e.ourNumber === ourNumber && e.theirNumber === theirNumber)
      .sort((a, b) => b.at.localeCompare(a.at));
  }
  async lastOutbound(ourNumber: string, theirNumber: string, at: string) {
    const e = this.threadOf(ourNumber, theirNumber).find((x) => x.direction === 'outbound' && x.at <= at);
    return e ? clone(e) : undefined;
  }
  async thread(ourNumber: string, theirNumber: string, options: { limit: number; continuationToken?: string }) {
    const all = this.threadOf(ourNumber, theirNumber);
    const start = options.continuationToken ? Number(options.continuationToken) : 0;
    return {
      items: all.slice(start, start + options.limit).map(clone),
      ...(start + options.limit < all.length ? { continuationToken: String(start + options.limit) } : {}),
    };
  }
  async eraseThreads(theirNumber: string, ourNumbers: readonly string[]) {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (e.theirNumber === theirNumber && ourNumbers.includes(e.ourNumber)) {
        this.entries.delete(k);
        n++;
      }
    }
    return n;
  }
}

/** A gateway that behaves like ACS's repeatability: a repeated id is not sent again. */
export class FakeGateway implements SmsGateway {
  readonly requests: GatewaySendRequest[] = [];
  /** Every message that reached a handset: "to|text". */
  readonly delivered: string[] = [];
  private readonly seen = new Map<string, { acsMessageId: string; firstSentMs: number }>();
  private counter = 0;
  /**
   * With a clock, ids are remembered only for the window after their first-sent time; without, for
   * ever. A first-sent time older than the window is taken as a new message, as both published
   * ACS SMS examples take a first-sent of 2019 (acsFacts.ts REPEATABILITY): no 412.
   */
  window?: { clock: Clock; ms: number };
  /** Queue of behaviours for the next requests. */
  readonly script: Array<'ok' | 'timeout-processed' | 'timeout' | '429' | '500'> = [];
  permanentFailures = new Map<string, { code: string; message: string }>();

  async send(request: GatewaySendRequest): Promise<GatewayRecipientResult[]> {
    this.requests.push(clone(request));
    const step = this.script.shift() ?? 'ok';
    if (step === '429')
      throw new GatewayError('ACS answered 429', { transient: true, uncertain: false, status: 429, retryAfterMs: 1000 });
    if (step === 'timeout') throw new GatewayError('ACS request timed out', { transient: true, uncertain: true });
    const results = request.recipients.map((r): GatewayRecipientResult => {
      const failure = this.permanentFailures.get(r.to);
      if (failure) return { to: r.to, outcome: 'rejected', code: failure.code, message: failure.message, transient: false };
      const now = this.window?.clock.now().getTime();
      let previous = this.seen.get(r.repeatabilityRequestId);
      if (previous && this.window && previous.firstSentMs + this.window.ms < now!) previous = undefined;
      if (previous) return { to: r.to, outcome: 'accepted', repeated: true, acsMessageId: previous.acsMessageId };
      const firstSentMs = Date.parse(r.repeatabilityFirstSent);
      const id = `20261125100000${String(++this.counter).padStart(8, '0')}`;
      this.seen.set(r.repeatabilityRequestId, { acsMessageId: id, firstSentMs });
      this.delivered.push(`${r.to}|${request.message}`);
      return { to: r.to, outcome: 'accepted', repeated: false, acsMessageId: id };
    });
    if (step === 'timeout-processed') throw new GatewayError('ACS request timed out', { transient: true, uncertain: true });
    if (step === '500') throw new GatewayError('ACS answered 500', { transient: true, uncertain: true, status: 500 });
    return results;
  }
  async getDeliveryReport(_acsMessageId: string): Promise<GatewayDeliveryReport | undefined> {
    return undefined;
  }
  /** ACS's opt-out list as mirrored: "add|from|to" per call. */
  readonly optOutCalls: string[] = [];
  optOutFailures = 0;
  async setOptOut(action: 'add' | 'remove', from: string, to: string) {
    if (this.optOutFailures > 0) {
      this.optOutFailures--;
      throw new GatewayError('ACS answered 503 to optouts', { transient: true, uncertain: false, status: 503 });
    }
    this.optOutCalls.push(`${action}|${from}|${to}`);
  }
  async ping() {}
}

export class FakeRateLimiter implements RateLimiter {
  readonly reservations: Array<{ sender: string; count: number }> = [];
  constructor(
    private readonly clock: Clock,
    public delayMs = 0,
  ) {}
  async reserve(sender: Sender, count: number) {
    this.reservations.push({ sender: sender.number, count });
    return new Date(this.clock.now().getTime() + this.delayMs);
  }
}

export class FakeDeadLetters implements DeadLetterStore {
  readonly letters: DeadLetter[] = [];
  async add(letter: Omit<DeadLetter, 'id' | 'at'>) {
    const full = { ...letter, id: String(this.letters.length + 1), at: new Date().toISOString() };
    this.letters.push(full);
    return full;
  }
  /** Newest first, as the table's inverted-time keys list them. */
  async list(options: { limit?: number } = {}) {
    return [...this.letters].reverse().slice(0, options.limit ?? 100);
  }
  async remove(id: string) {
    const i = this.letters.findIndex((l) => l.id === id);
    if (i >= 0) this.letters.splice(i, 1);
  }
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export const tollFree: Sender = { number: '+18005550100', type: 'tollFree', ratePerMinute: 200, burst: 3 };
export const shortCode: Sender = { number: '+18005550199', type: 'shortCode', ratePerMinute: 6000, burst: 100 };

export class FakeTracker implements DeliveryTracker {
  readonly tracked = new Map<string, TrackedMessage & { inFlight: boolean }>();
  readonly parkedReports: ParkedReport[] = [];
  async track(ids: readonly string[], at: Date) {
    for (const id of ids)
      this.tracked.set(id, {
        messageId: id,
        sentAt: at.toISOString(),
        nextCheckAt: at.toISOString(),
        handle: id,
        inFlight: true,
      });
  }
  async settle(ids: readonly string[], at: Date) {
    for (const id of ids) {
      const t = this.tracked.get(id);
      if (t && t.sentAt === at.toISOString()) t.inFlight = false;
    }
  }
  async inFlight(from: Date, to: Date, limit: number) {
    return [...this.tracked.values()]
      .filter((t) => t.inFlight && Date.parse(t.sentAt) >= from.getTime() && Date.parse(t.sentAt) < to.getTime())
      .sort((a, b) => a.sentAt.localeCompare(b.sentAt))
      .slice(0, limit)
      .map(({ inFlight: _i, ...t }) => ({ ...t }));
  }
  async due(sentBefore: Date, now: Date, limit: number) {
    return [...this.tracked.values()]
      .filter((t) => Date.parse(t.sentAt) < sentBefore.getTime() && Date.parse(t.nextCheckAt) <= now.getTime())
      .slice(0, limit)
      .map(({ inFlight: _i, ...t }) => ({ ...t }));
  }
  async untrack(messages: readonly TrackedMessage[]) {
    for (const m of messages) this.tracked.delete(m.handle);
  }
  async reschedule(message: TrackedMessage, next: Date) {
    const t = this.tracked.get(message.handle);
    if (t) t.nextCheckAt = next.toISOString();
  }
  async park(event: unknown, at: Date) {
    this.parkedReports.push({ event, parkedAt: at.toISOString(), handle: String(this.parkedReports.length) });
  }
  async parked(limit: number) {
    return this.parkedReports.slice(0, limit);
  }
  async unpark(reports: readonly ParkedReport[]) {
    for (const r of reports) {
      const i = this.parkedReports.findIndex((p) => p.handle === r.handle);
      if (i >= 0) this.parkedReports.splice(i, 1);
    }
  }
}

/** The event outbox in memory: what was published, re-enqueued (with delay) and poisoned. */
export class FakeOutbox implements EventOutbox {
  published: PipelineEvent[] = [];
  enqueued: Array<{ message: OutboxMessage; delayMs: number }> = [];
  poisoned: OutboxMessage[] = [];
  async publish(events: readonly PipelineEvent[]): Promise<void> {
    this.published.push(...events);
  }
  async enqueue(message: OutboxMessage, delayMs = 0): Promise<void> {
    this.enqueued.push({ message, delayMs });
  }
  async poison(message: OutboxMessage): Promise<void> {
    this.poisoned.push(message);
  }
}

/** Submissions in memory: create is insert-if-absent, as in the table. */
export class FakeSubmissions implements SubmissionStore {
  readonly rows = new Map<string, Submission>();
  /** Called before each create; lets a test fail the point of no return. */
  beforeCreate?: () => void;
  async create(submission: Submission) {
    this.beforeCreate?.();
    const existing = this.rows.get(submission.batchId);
    if (existing) return clone(existing);
    this.rows.set(submission.batchId, clone(submission));
    return clone(submission);
  }
  async get(batchId: string) {
    const s = this.rows.get(batchId);
    return s ? clone(s) : undefined;
  }
  async remove(batchId: string) {
    this.rows.delete(batchId);
  }
  async unfinished(before: Date, limit: number) {
    return [...this.rows.values()]
      .filter((s) => Date.parse(s.acceptedAt) < before.getTime())
      .sort((a, b) => a.acceptedAt.localeCompare(b.acceptedAt))
      .slice(0, limit)
      .map(clone);
  }
}

/** Templates in memory, with the adapter's rules: a conditional head, versions kept for ever. */
export class FakeTemplates implements TemplateStore {
  readonly heads = new Map<string, { template?: Template; lastVersion: number; etag: string }>();
  readonly versions = new Map<string, Template>();
  private counter = 0;
  async head(name: string): Promise<TemplateHead | undefined> {
    const h = this.heads.get(name);
    return h ? clone(h) : undefined;
  }
  async version(name: string, version: number) {
    const t = this.versions.get(`${name}@${version}`);
    return t ? clone(t) : undefined;
  }
  async write(template: Template, etag: string | undefined) {
    const current = this.heads.get(template.name);
    if (etag ? current?.etag !== etag : current) throw new ConcurrencyError();
    if (this.versions.has(`${template.name}@${template.version}`)) throw new ConcurrencyError();
    this.versions.set(`${template.name}@${template.version}`, clone(template));
    this.heads.set(template.name, { template: clone(template), lastVersion: template.version, etag: `t${++this.counter}` });
  }
  async remove(name: string, head: Pick<TemplateHead, 'etag' | 'lastVersion'>) {
    if (this.heads.get(name)?.etag !== head.etag) throw new ConcurrencyError();
    this.heads.set(name, { lastVersion: head.lastVersion, etag: `t${++this.counter}` });
  }
  async list(options: { limit: number; continuationToken?: string }) {
    const all = [...this.heads.values()]
      .flatMap((h) => (h.template ? [h.template] : []))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const start = options.continuationToken ? Number(options.continuationToken) : 0;
    const end = start + options.limit;
    return { items: all.slice(start, end).map(clone), ...(end < all.length ? { continuationToken: String(end) } : {}) };
  }
}

/** Transport dead letters in memory (the poison queue / dead-letter sub-queue). */
export class FakeTransportDeadLetters implements TransportDeadLetters {
  readonly name = 'sms-outbound-poison';
  readonly letters: DeadLetter[] = [];
  async list(limit: number) {
    return this.letters.slice(0, limit).map(clone);
  }
  async remove(ids: readonly string[]) {
    for (const id of ids) {
      const i = this.letters.findIndex((l) => l.id === id);
      if (i >= 0) this.letters.splice(i, 1);
    }
  }
}

/** Analytics facts as recorded: each key once, as the real store promises. */
export class FakeAnalyticsStore implements AnalyticsStore {
  readonly facts = new Map<string, AnalyticsFact>();
  async record(facts: readonly AnalyticsFact[]) {
    for (const f of facts) if (!this.facts.has(f.key)) this.facts.set(f.key, clone(f));
  }
  async read(_query: AnalyticsReadQuery): Promise<AnalyticsRow[]> {
    return [];
  }
}

/** A sink that keeps every record it is told about: what a use case announced. */
export class RecordingSink implements StatusEventSink {
  readonly changes: Array<{ messageId: string; status: string }> = [];
  async statusChanged(records: readonly MessageRecord[]) {
    for (const r of records) this.changes.push({ messageId: r.messageId, status: r.status });
  }
}

/** A publisher that keeps what it is given. */
export class FakePublisher implements EventPublisher {
  readonly events: PipelineEvent[] = [];
  async publish(events: readonly PipelineEvent[]) {
    this.events.push(...events.map(clone));
  }
}

/** The send rules of the default settings (SMS_QUIET_HOURS' defaults, no categories by tag). */
export function defaultSendRules(): SendRules {
  const quiet = parseQuietHours(DEFAULT_QUIET_HOURS);
  if (!quiet.ok) throw new Error(quiet.message);
  return { categoriesByTag: new Map(), quietHours: { rules: quiet.rules, holidays: new Map() }, caps: new Map() };
}

/** The send rules' deps of a submit: the default rules unless given, the real time-zone lookup, a fake caps ledger. */
export function sendRuleDeps(
  sendRules: SendRules = defaultSendRules(),
  frequencyCaps: FrequencyCapLedger = new FakeFrequencyCapLedger(),
) {
  return { sendRules, timeZones: phoneTimeZones(), frequencyCaps };
}

/** The settings a unit test runs with unless it says otherwise. */
export function fakeConfig(overrides: Partial<Config> = {}): Config {
  return {
    storage: { kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' },
    outboundQueue: { transport: 'storage', name: 'sms-outbound' },
    acs: {
      kind: 'connectionString',
      connectionString: 'endpoint=http://127.0.0.1:1/;accesskey=a2V5',
      endpoint: 'http://127.0.0.1:1/',
    },
    senders: [tollFree, shortCode],
    apps: new Map(),
    maxSegments: 10,
    sendMaxAttempts: 8,
    acsRequestTimeoutMs: 15_000,
    uncertainPolicy: 'atMostOnce',
    recovery: { intervalMs: 30_000, schedule: '*/30 * * * * *' },
    reconcile: { afterMs: 1_800_000, deadlineMs: 72 * 3600_000, schedule: '0 */5 * * * *' },
    events: { queueName: 'sms-events', source: '/sms-pipeline/test', retryBaseMs: 10_000 },
    webhooks: { urls: [] },
    inbound: { ...DEFAULT_INBOUND_POLICY, mirrorOptOutsToAcs: false },
    analytics: { responseWindowMs: 72 * 3600_000, prices: mergePrices() },
    telemetry: { exporter: 'none', serviceName: 'sms-pipeline-test' },
    guard: {
      allowedCountries: defaultAllowedCountries(overrides.senders ?? [tollFree, shortCode]),
      budgets: { rules: [], whenReached: 'refuse' },
      pumping: DEFAULT_PUMPING_POLICY,
    },
    links: TEST_LINK_POLICY,
    auth: { mode: 'keys' },
    sendRules: defaultSendRules(),
    retention: DEFAULT_RETENTION,
    ...overrides,
  };
}

/** Every fake of fakeServices, typed as themselves so a test can look inside. */
export interface FakeServices extends Services {
  clock: FakeClock;
  messages: FakeMessageStore;
  optOuts: FakeOptOuts;
  consentLog: FakeConsentLog;
  conversations: FakeConversations;
  deadLetters: FakeDeadLetters;
  transportDeadLetters: FakeTransportDeadLetters;
  rateLimiter: FakeRateLimiter;
  tracker: FakeTracker;
  queue: FakeQueue;
  gateway: FakeGateway;
  idempotency: MemoryIdempotencyStore;
  submissions: FakeSubmissions;
  templates: FakeTemplates;
  outbox: FakeOutbox;
  analytics: FakeAnalyticsStore;
  sendingControls: FakeSendingControls;
  budgets: FakeBudgetLedger;
  fraudWatch: FakeFraudWatch;
  links: FakeLinkStore;
  sendRuleStores: { timeZones: TimeZoneLookup; frequencyCaps: FakeFrequencyCapLedger; retention: FakeRetentionStore };
}

/**
 * A complete set of fakes in the shape of the composition root's Services: `depsOf(fakeServices())`
 * gives each use case exactly the deps the function app would, on fakes. Events go through the real
 * publisher and sink into the fake outbox (and the fake analytics store), so tests can read them there.
 */
export function fakeServices(
  options: { config?: Partial<Config>; clock?: FakeClock; destinations?: EventDestination[] } = {},
): FakeServices {
  const config = fakeConfig(options.config);
  const clock = options.clock ?? new FakeClock();
  const outbox = new FakeOutbox();
  const analytics = new FakeAnalyticsStore();
  const destinations = options.destinations ?? [];
  const publisher = eventPublisher({ destinations, outbox, retryBaseMs: config.events.retryBaseMs });
  const queue = new FakeQueue(() => clock.now().getTime());
  const deadLetters = new FakeDeadLetters();
  const transportDeadLetters = new FakeTransportDeadLetters();
  const messages = new FakeMessageStore();
  const conversations = new FakeConversations();
  return {
    config,
    clock,
    messages,
    optOuts: new FakeOptOuts(),
    consentLog: new FakeConsentLog(),
    conversations,
    deadLetters,
    transportDeadLetters,
    rateLimiter: new FakeRateLimiter(clock),
    tracker: new FakeTracker(),
    queue,
    gateway: new FakeGateway(),
    idempotency: new MemoryIdempotencyStore(),
    submissions: new FakeSubmissions(),
    templates: new FakeTemplates(),
    outbox,
    publisher,
    events: publishingSink(publisher, config.events.source),
    analytics,
    destinations,
    sendingControls: new FakeSendingControls(() => clock.now().getTime()),
    budgets: new FakeBudgetLedger(),
    // The real time-zone lookup: libphonenumber's map is data read once, no service to stand in for.
    sendRuleStores: {
      timeZones: phoneTimeZones(),
      frequencyCaps: new FakeFrequencyCapLedger(),
      retention: new FakeRetentionStore(messages, conversations),
    },
    fraudWatch: new FakeFraudWatch(),
    links: new FakeLinkStore(),
    async ensureStorage() {},
    observeQueues: () =>
      observeQueues(
        {
          system: 'fake',
          queueName: config.outboundQueue.name,
          observe: async () => ({
            oldestAgeSeconds: queue.oldestAgeSeconds(),
            transportDeadLetters: transportDeadLetters.letters.length,
          }),
        },
        deadLetters,
      ),
  };
}

/**
 * The consent path on fakes: where a delivery report's carrier opt-out (4007) or an inbound
 * keyword is recorded. Its publisher keeps the events unless one is given.
 */
export function carrierConsent(options: {
  optOuts: OptOutStore;
  clock: Clock;
  consentLog?: ConsentLog;
  senders?: readonly Sender[];
  publisher?: EventPublisher;
  log?: Logger;
}): CarrierConsentDeps {
  return {
    optOuts: options.optOuts,
    consentLog: options.consentLog ?? new FakeConsentLog(),
    clock: options.clock,
    log: options.log ?? silentLogger,
    senders: options.senders ?? [],
    mirror: null,
    eventSource: '/sms-pipeline/test',
    publisher: options.publisher ?? new FakePublisher(),
  };
}
