// Hand-overs whose outcome cannot be known: the request may have reached ACS, and ACS can no longer
// tell a repeat from a new message (its repeatability window has passed). Sending again could text
// the person twice; not sending could leave them without the text. Which risk to take is the
// deployment's choice (SEND_UNCERTAIN_POLICY), made at once and shown — never left in "sending".
import { moveTo, UNCERTAIN_HANDOVER_CODE, type MessageRecord } from '../../domain/message.js';

/** atMostOnce (default): never risk a second text. atLeastOnce: never risk none. */
export type UncertainPolicy = 'atMostOnce' | 'atLeastOnce';

/**
 * Decides one uncertain hand-over. atMostOnce: the message ends `unknown` (a delivery report that
 * still arrives moves it on; its event tells the app). atLeastOnce: it is made new again — a fresh
 * repeatability id at its next hand-over — and true is returned: send it.
 */
export function decideUncertain(record: MessageRecord, now: Date, policy: UncertainPolicy, why: string): boolean {
  if (policy === 'atLeastOnce' && record.status === 'sending') {
    delete record.repeatabilityFirstSent;
    delete record.handoverUncertain;
    return true;
  }
  moveTo(record, 'unknown', now, {
    reason: `${why}; not sent again, so it cannot reach the recipient twice (SEND_UNCERTAIN_POLICY=atMostOnce)`,
    code: UNCERTAIN_HANDOVER_CODE,
  });
  return false;
}
