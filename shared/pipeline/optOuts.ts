// The opt-out API: a person's consent per number and overall, opting out and lifting it through the
// API, the consent log and the list of opt-outs in force. Every change goes through the consent
// path (consent.ts), so the API, keywords and the carrier leave the same trail.
import { randomUUID } from 'node:crypto';
import { WHOLE_POOL, type ConsentChange, type ConsentLogEntry, type OptOutEntry } from '../domain/consent.js';
import type { Sender } from '../domain/sender.js';
import type { EventPublisher } from '../ports/events.js';
import type { Page } from '../ports/paging.js';
import { recordConsentChange, type ConsentDeps, type ConsentOutcome, type MirrorResult } from './consent.js';

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
  return { ...status, changes: outcomes.map((o) => o.entry), ...(deps.mirror !== null ? { acsMirror: mirrored } : {}) };
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
