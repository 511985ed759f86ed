// Consent: opt-outs and opt-ins from keywords, the API or the carrier, recorded so that the
// opt-out table (what the sender checks), the consent log (the evidence, kept for ever), ACS's own
// opt-out list (when mirrored) and the app's events agree. The API use cases are in optOuts.ts.
//
// Changes are ordered by when the person asked, not by when the pipeline heard: a STOP delivered
// after a later START is logged but not applied. A redelivered change (same id) is applied again,
// which is harmless because every write is idempotent.
import { WHOLE_POOL, type ConsentChange, type ConsentLogEntry } from '../domain/consent.js';
import { consentEvent, type PipelineEvent } from '../domain/events.js';
import { isE164, maskPhoneNumber } from '../domain/phoneNumber.js';
import type { Sender } from '../domain/sender.js';
import type { ConsentLog, OptOutStore } from '../ports/consent.js';
import type { SmsGateway } from '../ports/gateway.js';
import type { Clock, Logger } from '../ports/runtime.js';
import { retryOnConflict } from './optimistic.js';

export interface ConsentDeps {
  optOuts: OptOutStore;
  consentLog: ConsentLog;
  clock: Clock;
  log: Logger;
  senders: readonly Sender[];
  /** ACS's opt-out list; null when ACS_OPT_OUT_MIRROR is off. */
  mirror: Pick<SmsGateway, 'setOptOut'> | null;
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
  const superseded = await retryOnConflict(async () => {
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
    if (state?.changeId === request.id) return undefined; // a redelivery: finish what the first try began
    await deps.consentLog.saveState(request.recipient, request.sender, {
      at: request.at,
      optedOut,
      changeId: request.id,
      ...(request.quiet ? { quiet: true } : {}),
      ...(state?.etag ? { etag: state.etag } : {}),
    });
    return undefined;
  });
  if (superseded) return superseded;

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
  const mirror = deps.mirror;
  if (!mirror) return [];
  const numbers = (request.sender === WHOLE_POOL ? deps.senders.map((s) => s.number) : [request.sender])
    // ACS keeps lists for numbers it can receive on: phone numbers and short codes.
    .filter((n) => isE164(n) || /^\d{5,6}$/.test(n))
    .filter((n) => !(request.action === 'optOut' && n === keep));
  return Promise.all(
    numbers.map(async (sender): Promise<MirrorResult> => {
      try {
        await mirror.setOptOut(request.action === 'optOut' ? 'add' : 'remove', sender, request.recipient);
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
