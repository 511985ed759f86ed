// Inbound SMS: a text from a handset to one of our numbers. It is kept in the conversation
// (linked to the last message we sent that person from that number), classified (STOP / START /
// HELP, per sender, on the whole trimmed text), acted on (consent change, automatic reply) and
// forwarded to the app as sms.inbound.received — every text, keyword or not.
//
// Event Grid delivers at least once. Everything here is keyed by the inbound message id: the
// inbound entry (its key comes from the id and the receive time), the consent change ids, the
// reply's message id and the event ids. A redelivery of a finished message is recognised by one
// point read and changes nothing; a redelivery of an interrupted one finishes it.
import { parseInboundSms, type InboundSms } from '../domain/acsEvents.js';
import { NO_APPS, ownerOfNumber, sendersOfApp, type AppDirectory } from '../domain/apps.js';
import { DEFAULT_APP } from '../domain/caller.js';
import { WHOLE_POOL, type ConsentLogEntry } from '../domain/consent.js';
import type { ThreadEntry } from '../domain/conversation.js';
import { inboundEvent, type InboundEventData, type PipelineEvent } from '../domain/events.js';
import { keywordsFor, replyFor, type InboundPolicy } from '../domain/inboundPolicy.js';
import { classifyKeyword, type KeywordClass } from '../domain/keywords.js';
import { isE164, maskPhoneNumber } from '../domain/phoneNumber.js';
import type { Sender } from '../domain/sender.js';
import type { ConversationStore } from '../ports/conversations.js';
import type { EventPublisher } from '../ports/events.js';
import { recordConsentChange, type ConsentDeps, type ConsentOutcome, type ConsentRequest } from './consent.js';
import { queueReply, type ReplyDeps } from './replies.js';

export interface InboundDeps extends ConsentDeps, ReplyDeps {
  /** The apps of SMS_APPS: a text to an app's number is that app's (its webhook gets it). */
  apps?: AppDirectory;
  conversations: ConversationStore;
  publisher: EventPublisher;
  policy: InboundPolicy;
}

export type InboundOutcome =
  | {
      kind: 'processed';
      inboundMessageId: string;
      keyword: KeywordClass | null;
      /** The reply's message id, when one was queued. */
      reply?: string;
      consent: ConsentLogEntry[];
      /** The message id of the outbound message this text answers. */
      inReplyTo?: string;
    }
  | { kind: 'duplicate'; inboundMessageId: string }
  | { kind: 'malformed'; reason: string };

/**
 * Handles one Event Grid / CloudEvents event, or an array of them (a batched delivery). Never
 * throws for bad input — a malformed event is logged and acknowledged, or Event Grid would retry
 * it for a day — only when storage or the outbox is unavailable, so the event comes again.
 */
export async function receiveInboundSms(deps: InboundDeps, payload: unknown): Promise<InboundOutcome[]> {
  const events = Array.isArray(payload) ? payload : [payload];
  const outcomes: InboundOutcome[] = [];
  for (const event of events) {
    const parsed = parseInboundSms(event);
    const reason = parsed.ok ? implausible(parsed.value) : parsed.reason;
    if (!parsed.ok || reason) {
      deps.log.warn('inbound SMS rejected', { reason });
      outcomes.push({ kind: 'malformed', reason: reason! });
      continue;
    }
    outcomes.push(await handle(deps, { ...parsed.value, message: parsed.value.message.slice(0, MAX_INBOUND_TEXT) }));
  }
  return outcomes;
}

/**
 * Longest text kept and forwarded. A concatenated SMS is at most a few thousand characters; the
 * cap keeps a hostile event within what a table entity and a queue message can hold.
 */
export const MAX_INBOUND_TEXT = 16_000;

/** Why an event that parsed still cannot be an SMS from a handset to one of our numbers. */
function implausible(sms: InboundSms): string | undefined {
  if (!isE164(sms.from)) return 'from is not a phone number';
  if (!isE164(sms.to) && !/^\d{5,6}$/.test(sms.to)) return 'to is neither a phone number nor a short code';
  if (!/^[\x21-\x7e]{1,200}$/.test(sms.acsMessageId)) return 'messageId is not an ACS message id';
  return undefined;
}

/** When the person sent it: ACS's receive time, else the time in its message id, else now. */
export function receivedTime(sms: InboundSms, now: Date): Date {
  const stated = Date.parse(sms.receivedAt);
  if (Number.isFinite(stated)) return new Date(stated);
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(sms.acsMessageId);
  if (m) {
    const fromId = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    if (Number.isFinite(fromId)) return new Date(fromId);
  }
  return now;
}

async function handle(deps: InboundDeps, sms: InboundSms): Promise<InboundOutcome> {
  const receivedAt = receivedTime(sms, deps.clock.now());
  const at = receivedAt.toISOString();
  const existing = await deps.conversations.getInbound(sms.to, sms.from, at, sms.acsMessageId);
  if (existing?.processed) {
    deps.log.info('inbound SMS already processed', { inboundMessageId: sms.acsMessageId });
    return { kind: 'duplicate', inboundMessageId: sms.acsMessageId };
  }

  const keyword = classifyKeyword(sms.message, keywordsFor(deps.policy, sms.to));
  const answered = existing ? existing.inReplyTo : await findAnswered(deps.conversations, sms, at);
  // Whose text it is: the app that owns the number, else the app of the message it answers (rides on the thread entry read anyway).
  // (The answered message's app only when the number is still in its pool, so a reply can go from it.)
  const apps = deps.apps ?? NO_APPS;
  const answeredApp =
    answered?.app !== undefined && sendersOfApp(deps.senders, apps, answered.app).some((s) => s.number === sms.to)
      ? answered.app
      : undefined;
  const app = ownerOfNumber(apps, sms.to) ?? answeredApp ?? DEFAULT_APP;
  const entry: ThreadEntry = {
    ourNumber: sms.to,
    theirNumber: sms.from,
    direction: 'inbound',
    at,
    body: sms.message,
    app,
    inboundMessageId: sms.acsMessageId,
    keyword,
    ...(answered ? { inReplyTo: answered } : {}),
    processed: false,
  };
  // In the thread before anything else, so the conversation shows it even if acting on it fails.
  if (!existing) await deps.conversations.saveInbound(entry);

  const sender = deps.senders.find((s) => s.number === sms.to);
  const { outcomes: consent, confirm } =
    keyword === 'optOut' || keyword === 'optIn' ? await changeConsent(deps, sms, keyword, at) : { outcomes: [], confirm: false };

  let reply: string | undefined;
  // No confirmation of a change that did not happen (a STOP that arrived after a later START, a
  // "Yes" from someone who was not opted out).
  const acted = keyword === 'help' || confirm;
  const text = keyword && acted ? replyFor(deps.policy, sms.to, sender?.type, keyword) : undefined;
  if (text && sender) {
    reply = (
      await queueReply(deps, {
        inboundMessageId: sms.acsMessageId,
        receivedAt,
        sender,
        to: sms.from,
        text,
        keyword: keyword!,
        app,
      })
    ).messageId;
  } else if (text) {
    deps.log.warn('no reply: the number that received the text is not in SMS_SENDERS', { to: maskPhoneNumber(sms.to) });
  }

  const data: InboundEventData = {
    inboundMessageId: sms.acsMessageId,
    app,
    from: sms.from,
    to: sms.to,
    message: sms.message,
    keyword,
    receivedAt: at,
    ...(answered ? { inReplyTo: answered } : {}),
  };
  const consentEvents = consent.flatMap((c) => c.events).map((e) => ({ ...e, data: { ...e.data, app } }));
  const events: PipelineEvent[] = [inboundEvent(deps.eventSource, data), ...consentEvents];
  await deps.publisher.publish(events);
  await deps.conversations.saveInbound({ ...entry, processed: true });

  deps.log.info('inbound SMS', {
    from: maskPhoneNumber(sms.from),
    to: maskPhoneNumber(sms.to),
    keyword: keyword ?? 'none',
    replied: reply !== undefined,
    linked: answered !== undefined,
  });
  return {
    kind: 'processed',
    inboundMessageId: sms.acsMessageId,
    keyword,
    ...(reply ? { reply } : {}),
    consent: consent.map((c) => c.entry),
    ...(answered ? { inReplyTo: answered.messageId } : {}),
  };
}

async function findAnswered(conversations: ConversationStore, sms: InboundSms, at: string): Promise<ThreadEntry['inReplyTo']> {
  const last = await conversations.lastOutbound(sms.to, sms.from, at);
  if (!last?.messageId || !last.batchId) return undefined;
  return {
    messageId: last.messageId,
    batchId: last.batchId,
    ...(last.app ? { app: last.app } : {}),
    ...(last.tag ? { tag: last.tag } : {}),
    ...(last.template ? { template: last.template } : {}),
    sentAt: last.at,
  };
}

/**
 * The consent changes a STOP or START asks for. Scope "sender": the number that received it.
 * Scope "pool": every number (the pool-wide entry). Under scope "sender", a START to one number
 * while a pool-wide opt-out is in force narrows that opt-out to the other numbers: the person
 * asked for this number back, not for all of them.
 */
async function changeConsent(
  deps: InboundDeps,
  sms: InboundSms,
  keyword: 'optOut' | 'optIn',
  at: string,
): Promise<{ outcomes: ConsentOutcome[]; confirm: boolean }> {
  const base = {
    recipient: sms.from,
    source: 'keyword' as const,
    keyword: sms.message.trim().replace(/\s+/g, ' ').toUpperCase().slice(0, 40),
    inboundMessageId: sms.acsMessageId,
    at,
  };
  const change = (sender: string, action: ConsentRequest['action'], reason?: string): ConsentRequest => ({
    ...base,
    id: `${sms.acsMessageId}:${sender}`,
    action,
    sender,
    ...(reason ? { reason } : {}),
  });
  const keep = { keepAcsListFor: sms.to };
  const out: ConsentOutcome[] = [];

  const applied = () => ({ outcomes: out, confirm: out.some((o) => o.entry.applied) });
  if (keyword === 'optOut') {
    out.push(await recordConsentChange(deps, change(deps.policy.scope === 'pool' ? WHOLE_POOL : sms.to, 'optOut'), keep));
    return applied();
  }
  // "Yes" is also the everyday answer to a question: an opt-in keyword from someone who is not
  // opted out lifts nothing and gets no confirmation. It is still logged and still orders an
  // older STOP that arrives later. A redelivery is recognised by the latest-change row carrying
  // its id, and decides as the first delivery did.
  const key = deps.policy.scope === 'pool' ? WHOLE_POOL : sms.to;
  const [blocking, state] = await Promise.all([
    deps.optOuts.find(sms.from, [sms.to, WHOLE_POOL]),
    deps.consentLog.state(sms.from, key),
  ]);
  const redelivered = state?.changeId === change(key, 'optIn').id;
  if (redelivered ? state.quiet : blocking.length === 0) {
    const outcome = await recordConsentChange(
      deps,
      { ...change(key, 'optIn'), quiet: true, note: 'not opted out: nothing to lift' },
      keep,
    );
    return { outcomes: [outcome], confirm: false };
  }
  if (deps.policy.scope === 'pool') {
    out.push(await recordConsentChange(deps, change(WHOLE_POOL, 'optIn'), keep));
    if ((await deps.optOuts.find(sms.from, [sms.to])).length > 0)
      out.push(await recordConsentChange(deps, change(sms.to, 'optIn'), keep));
    return applied();
  }
  out.push(await recordConsentChange(deps, change(sms.to, 'optIn'), keep));
  if ((await deps.optOuts.find(sms.from, [WHOLE_POOL])).length > 0) {
    const others = deps.senders.filter((s: Sender) => s.number !== sms.to);
    // The other numbers first: at no moment is the person unblocked on a number they did not ask for.
    for (const other of others) {
      out.push(
        await recordConsentChange(
          deps,
          change(other.number, 'optOut', `pool-wide opt-out kept for this number when START was sent to ${sms.to}`),
          keep,
        ),
      );
    }
    out.push(
      await recordConsentChange(
        deps,
        change(WHOLE_POOL, 'optIn', `narrowed to the other numbers when START was sent to ${sms.to}`),
        keep,
      ),
    );
  }
  return applied();
}
