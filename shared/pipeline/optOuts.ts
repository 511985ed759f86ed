// Consent: opt-outs and opt-ins from keywords, the API or the carrier, recorded so that the
// opt-out table (what the sender checks), the consent log (the evidence, kept for ever), ACS's own
// opt-out list (when mirrored) and the app's events agree — and the API use cases on top.
//
// Changes are ordered by when the person asked, not by when the pipeline heard: a STOP delivered
// after a later START is logged but not applied. A redelivered change (same id) is applied again,
// which is harmless because every write is idempotent.
import { randomUUID } from 'node:crypto';
import type { Sender } from '../config.js';
import { consentEvent, type PipelineEvent } from '../domain/events.js';
import { isE164, maskPhoneNumber } from '../domain/phoneNumber.js';
import {
  ConcurrencyError,
  type Clock,
  type ConsentChange,
  type ConsentLog,
  type ConsentLogEntry,
  type EventPublisher,
  type Logger,
  type OptOutEntry,
  type OptOutStore,
  type Page,
  type SmsGateway,
} from '../ports.js';

/** The pool-wide key of the opt-out table. */
export const WHOLE_POOL = '*';

export interface ConsentDeps {
  optOuts: OptOutStore;
  consentLog: ConsentLog;
  clock: Clock;
  log: Logger;
  senders: readonly Sender[];
  /** ACS's opt-out list; only given when ACS_OPT_OUT_MIRROR is on. */
  mirror?: Pick<SmsGateway, 'setOptOut'>;
  /** CloudEvents source of the pipeline's events. */
  eventSource: string;
}

/** A change to record. `id` makes it idempotent: the same id is the same change. */
export interface ConsentRequest extends ConsentChange {
  id: string;
  action: 'optOut' | 'optIn';
  note?: string;
  /**
   * The change asks for what is already so (a START from someone not opted out). It is logged
   * and orders later-arriving older changes, but writes no opt-out, mirrors and publishes nothing.
   */
  quiet?: boolean;
}

export interface MirrorResult {
  sender: string;
  ok: boolean;
  error?: string;
}

export interface ConsentOutcome {
  entry: ConsentLogEntry;
  /** The events of the change (none when it was not applied); the caller publishes them. */
  events: PipelineEvent[];
  /** What ACS's opt-out list said, per sender, when mirroring is on. */
  mirrored: MirrorResult[];
}

/**
 * Records one change: latest-change state, opt-out table, consent log, ACS mirror, in that
 * order, so a crash at any point is repaired by the redelivery of the same change.
 * `keepAcsListFor`: a number whose ACS list must not get this opt-out (the number that just
 * received the STOP keyword: ACS saw the text itself, and an entry now would also block the
 * pipeline's own STOP confirmation).
 */
export async function recordConsentChange(
  deps: ConsentDeps,
  request: ConsentRequest,
  options: { keepAcsListFor?: string } = {},
): Promise<ConsentOutcome> {
  const optedOut = request.action === 'optOut';
  for (let round = 1; ; round++) {
    const state = await deps.consentLog.state(request.recipient, request.sender);
    if (state && state.changeId !== request.id && state.at > request.at) {
      const { quiet: _quiet, ...logged } = request;
      const entry: ConsentLogEntry = { ...logged, applied: false, note: `not applied: a later change (${state.at}) is in force` };
      await deps.consentLog.append(entry);
      deps.log.info('consent change superseded by a later one', {
        recipient: maskPhoneNumber(request.recipient),
        sender: request.sender,
      });
      return { entry, events: [], mirrored: [] };
    }
    if (state?.changeId === request.id) break; // a redelivery: finish what the first try began
    try {
      await deps.consentLog.saveState(request.recipient, request.sender, {
        at: request.at,
        optedOut,
        changeId: request.id,
        ...(request.quiet ? { quiet: true } : {}),
        ...(state?.etag ? { etag: state.etag } : {}),
      });
      break;
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || round >= 5) throw error;
    }
  }

  const { quiet, ...logged } = request;
  if (quiet) {
    const entry: ConsentLogEntry = { ...logged, applied: true };
    await deps.consentLog.append(entry);
    return { entry, events: [], mirrored: [] };
  }

  const change: ConsentChange = {
    sender: request.sender,
    recipient: request.recipient,
    source: request.source,
    at: request.at,
    ...(request.keyword ? { keyword: request.keyword } : {}),
    ...(request.reason ? { reason: request.reason } : {}),
    ...(request.inboundMessageId ? { inboundMessageId: request.inboundMessageId } : {}),
  };
  if (optedOut) await deps.optOuts.add(change);
  else await deps.optOuts.remove(change);
  const entry: ConsentLogEntry = { ...logged, applied: true };
  await deps.consentLog.append(entry);

  const mirrored = await mirror(deps, request, options.keepAcsListFor);
  const events = [consentEvent(deps.eventSource, { changeId: request.id, action: request.action, ...change })];
  return { entry, events, mirrored };
}

async function mirror(deps: ConsentDeps, request: ConsentRequest, keep: string | undefined): Promise<MirrorResult[]> {
  const setOptOut = deps.mirror?.setOptOut;
  if (!setOptOut) return [];
  const numbers = (request.sender === WHOLE_POOL ? deps.senders.map((s) => s.number) : [request.sender])
    // ACS keeps lists for numbers it can receive on: phone numbers and short codes.
    .filter((n) => isE164(n) || /^\d{5,6}$/.test(n))
    .filter((n) => !(request.action === 'optOut' && n === keep));
  return Promise.all(
    numbers.map(async (sender): Promise<MirrorResult> => {
      try {
        await setOptOut.call(deps.mirror, request.action === 'optOut' ? 'add' : 'remove', sender, request.recipient);
        return { sender, ok: true };
      } catch (error) {
        // The pipeline's own table is what the sender checks; the mirror is a second line. A
        // failure is reported (and logged), not fatal: repeating the change mirrors it again.
        deps.log.warn('ACS opt-out list not updated', {
          sender,
          recipient: maskPhoneNumber(request.recipient),
          error: String((error as Error).message),
        });
        return { sender, ok: false, error: String((error as Error).message).slice(0, 300) };
      }
    }),
  );
}

// ---- The API ----

/** One sender's view of a person's consent. */
export interface SenderConsent {
  sender: string;
  type: Sender['type'];
  optedOut: boolean;
  /** Why: the person's own opt-out of this number, or the pool-wide one. */
  via?: 'sender' | 'pool';
  since?: string;
  source?: ConsentChange['source'];
  keyword?: string;
  reason?: string;
  inboundMessageId?: string;
}

export interface OptOutStatus {
  phone: string;
  /** Opted out of every number of the pool (pool-wide, or each one). */
  optedOutEverywhere: boolean;
  pool: Omit<SenderConsent, 'sender' | 'type' | 'via'>;
  senders: SenderConsent[];
}

function details(entry: OptOutEntry) {
  return {
    since: entry.at,
    source: entry.source,
    ...(entry.keyword ? { keyword: entry.keyword } : {}),
    ...(entry.reason ? { reason: entry.reason } : {}),
    ...(entry.inboundMessageId ? { inboundMessageId: entry.inboundMessageId } : {}),
  };
}

/** Per sender and overall: one point read per sender of the pool and one for the pool-wide entry. */
export async function getOptOutStatus(deps: Pick<ConsentDeps, 'optOuts' | 'senders'>, phone: string): Promise<OptOutStatus> {
  const entries = await deps.optOuts.find(phone, [WHOLE_POOL, ...deps.senders.map((s) => s.number)]);
  const bySender = new Map(entries.map((e) => [e.sender, e]));
  const poolEntry = bySender.get(WHOLE_POOL);
  const senders = deps.senders.map((s): SenderConsent => {
    const own = bySender.get(s.number);
    if (own) return { sender: s.number, type: s.type, optedOut: true, via: 'sender', ...details(own) };
    if (poolEntry) return { sender: s.number, type: s.type, optedOut: true, via: 'pool', ...details(poolEntry) };
    return { sender: s.number, type: s.type, optedOut: false };
  });
  return {
    phone,
    optedOutEverywhere: senders.every((s) => s.optedOut),
    pool: poolEntry ? { optedOut: true, ...details(poolEntry) } : { optedOut: false },
    senders,
  };
}

export interface ConsentApiResult extends OptOutStatus {
  /** The consent log entries this request added; empty when it changed nothing. */
  changes: ConsentLogEntry[];
  /** ACS's opt-out list, per sender, when mirroring is on. */
  acsMirror?: MirrorResult[];
}

export type ConsentApiOutcome = { kind: 'done'; result: ConsentApiResult } | { kind: 'invalid'; field: string; message: string };

function checkSender(deps: Pick<ConsentDeps, 'senders'>, from: string): string | undefined {
  if (from === WHOLE_POOL || deps.senders.some((s) => s.number === from)) return undefined;
  return `must be "*" (every number) or one of the configured senders (${deps.senders.map((s) => s.number).join(', ')})`;
}

/** PUT: opts a person out of one number, or of the whole pool (the default). Repeating it changes nothing. */
export async function addOptOut(
  deps: ConsentDeps & { publisher: EventPublisher },
  phone: string,
  body: { from?: string; reason: string },
): Promise<ConsentApiOutcome> {
  const sender = body.from ?? WHOLE_POOL;
  const invalid = checkSender(deps, sender);
  if (invalid) return { kind: 'invalid', field: 'from', message: invalid };
  const existing = await deps.optOuts.find(phone, [sender]);
  const outcomes: ConsentOutcome[] = [];
  if (existing.length === 0) {
    outcomes.push(
      await recordConsentChange(deps, {
        id: `api-${randomUUID()}`,
        action: 'optOut',
        sender,
        recipient: phone,
        source: 'api',
        reason: body.reason,
        at: deps.clock.now().toISOString(),
      }),
    );
  }
  return { kind: 'done', result: await finish(deps, phone, outcomes) };
}

/** DELETE: lifts the opt-out of one number, of the pool-wide entry, or (without `from`) every one. */
export async function removeOptOut(
  deps: ConsentDeps & { publisher: EventPublisher },
  phone: string,
  query: { from?: string; reason?: string },
): Promise<ConsentApiOutcome> {
  if (query.from !== undefined) {
    const invalid = checkSender(deps, query.from);
    if (invalid) return { kind: 'invalid', field: 'from', message: invalid };
  }
  const keys = query.from !== undefined ? [query.from] : [WHOLE_POOL, ...deps.senders.map((s) => s.number)];
  const existing = await deps.optOuts.find(phone, keys);
  const at = deps.clock.now().toISOString();
  const outcomes: ConsentOutcome[] = [];
  for (const entry of existing) {
    outcomes.push(
      await recordConsentChange(deps, {
        id: `api-${randomUUID()}`,
        action: 'optIn',
        sender: entry.sender,
        recipient: phone,
        source: 'api',
        ...(query.reason ? { reason: query.reason } : {}),
        at,
      }),
    );
  }
  return { kind: 'done', result: await finish(deps, phone, outcomes) };
}

async function finish(
  deps: ConsentDeps & { publisher: EventPublisher },
  phone: string,
  outcomes: ConsentOutcome[],
): Promise<ConsentApiResult> {
  const events = outcomes.flatMap((o) => o.events);
  if (events.length > 0) await deps.publisher.publish(events);
  const status = await getOptOutStatus(deps, phone);
  const mirrored = outcomes.flatMap((o) => o.mirrored);
  return { ...status, changes: outcomes.map((o) => o.entry), ...(deps.mirror ? { acsMirror: mirrored } : {}) };
}

/** The consent log of a number, oldest first. */
export async function consentHistory(
  deps: Pick<ConsentDeps, 'consentLog'>,
  phone: string,
  page: { limit: number; continuationToken?: string },
): Promise<{ phone: string; entries: ConsentLogEntry[]; continuationToken?: string }> {
  const result = await deps.consentLog.history(phone, page);
  return { phone, entries: result.items, ...(result.continuationToken ? { continuationToken: result.continuationToken } : {}) };
}

/** Opt-outs in force, of one sender ("*" for pool-wide ones) or all, a page at a time. */
export async function listOptOuts(
  deps: Pick<ConsentDeps, 'optOuts'>,
  query: { from?: string; limit: number; continuationToken?: string },
): Promise<Page<OptOutEntry>> {
  return deps.optOuts.list({
    ...(query.from !== undefined ? { sender: query.from } : {}),
    limit: query.limit,
    ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
  });
}

const CSV_COLUMNS = ['sender', 'recipient', 'source', 'keyword', 'reason', 'inboundMessageId', 'at'] as const;

/** RFC 4180 CSV; free text that a spreadsheet would run as a formula is prefixed with a quote. */
export function optOutsCsv(items: readonly OptOutEntry[], header = true): string {
  const cell = (value: string | undefined, freeText: boolean) => {
    let v = value ?? '';
    if (freeText && /^[=+\-@\t\r]/.test(v)) v = `'${v}`;
    return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  };
  const lines = items.map((e) => CSV_COLUMNS.map((c) => cell(e[c], c === 'reason' || c === 'keyword')).join(','));
  return `${header ? `${CSV_COLUMNS.join(',')}\r\n` : ''}${lines.map((l) => `${l}\r\n`).join('')}`;
}
