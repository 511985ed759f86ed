// Inbound SMS: a reply from a handset. Opt-out keywords record an opt-out for that sender,
// opt-in keywords remove it; every message is acknowledged so Event Grid does not retry it.
import type { Sender } from '../config.js';
import { parseInboundSms } from '../domain/acsEvents.js';
import { classifyKeyword } from '../domain/keywords.js';
import { maskPhoneNumber } from '../domain/phoneNumber.js';
import type { Clock, Logger, OptOutStore } from '../ports.js';

export interface InboundDeps {
  optOuts: OptOutStore;
  clock: Clock;
  log: Logger;
  senders: readonly Sender[];
}

export type InboundOutcome =
  | { kind: 'optOut' | 'optIn' | 'help' | 'message'; from: string; to: string }
  | { kind: 'malformed'; reason: string };

export async function receiveInboundSms(deps: InboundDeps, event: unknown): Promise<InboundOutcome> {
  const parsed = parseInboundSms(event);
  if (!parsed.ok) {
    deps.log.warn('inbound SMS rejected', { reason: parsed.reason });
    return { kind: 'malformed', reason: parsed.reason };
  }
  const sms = parsed.value;
  const keyword = classifyKeyword(sms.message);
  const change = {
    sender: sms.to,
    recipient: sms.from,
    source: 'keyword' as const,
    keyword: sms.message.trim().toUpperCase().slice(0, 20),
    inboundMessageId: sms.acsMessageId,
    at: deps.clock.now().toISOString(),
  };
  if (keyword === 'optOut') await deps.optOuts.add(change);
  else if (keyword === 'optIn') await deps.optOuts.remove(change);
  deps.log.info('inbound SMS', { from: maskPhoneNumber(sms.from), to: maskPhoneNumber(sms.to), keyword: keyword ?? 'none' });
  return { kind: keyword ?? 'message', from: sms.from, to: sms.to };
}
