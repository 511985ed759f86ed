// Tracked links in a submit: every http(s) URL of a tracked request's texts becomes a short link of
// its own per message, before the texts are encoded and counted (so preview shows the real
// segments), and the links are stored before the submit's point of no return. Codes are keyed
// hashes of the message id and the URL's position (domain/links.ts): a retry with the same
// Idempotency-Key works under the same batch id, so it makes — and finds stored — the same codes.
import {
  findUrls,
  linkCode,
  PLACEHOLDER_CODE,
  shortenText,
  tracksLinks,
  withUtm,
  type LinkPolicy,
  type TrackedLink,
} from '../../domain/links.js';
import { templateKey, type TemplateRef } from '../../domain/template.js';
import type { FieldError } from '../../domain/validation.js';
import type { LinkStore } from '../../ports/links.js';
import type { SubmitRequest } from './forms.js';

/** What of a planned message its links concern (plan.ts's PlannedMessage). */
export interface LinkedMessage {
  messageId: string;
  from: { number: string };
  optedOut: boolean;
  /** Over a frequency cap, or held by quiet hours past its validity: never sent, so no links stored. */
  capped?: string;
  expired?: boolean;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  reference?: string;
  scheduledAt?: Date;
  links?: TrackedLink[];
}

export interface LinkDeps {
  links: LinkStore;
  linkPolicy: LinkPolicy;
}

/** How a request's links are tracked. */
export interface LinkTracking {
  base: string;
  key: Uint8Array;
  policy: LinkPolicy;
  tag?: string;
  template?: string;
  /** The app of the request: its links' clicks are its events. */
  app?: string;
}

/** Collision rounds before a submit gives up (each is a 1 in ~10^10 event at a million stored links). */
const MAX_ROUNDS = 5;
const DAY_MS = 86_400_000;

/** Whether (and how) the request's links are tracked; an error when it asks for tracking that is not set up. */
export async function linkTrackingOf(
  deps: LinkDeps,
  request: SubmitRequest,
  template: TemplateRef | undefined,
): Promise<{ tracking?: LinkTracking; error?: FieldError }> {
  const wanted = tracksLinks(deps.linkPolicy, {
    ...(request.trackLinks !== undefined ? { trackLinks: request.trackLinks } : {}),
    ...(request.tag ? { tag: request.tag } : {}),
    ...(template ? { template: template.name } : {}),
  });
  if (!wanted) return {};
  const base = deps.linkPolicy.base;
  if (!base) {
    if (request.trackLinks) return { error: { field: 'trackLinks', message: 'needs the LINK_DOMAIN setting, which is not set' } };
    return {};
  }
  return {
    tracking: {
      base,
      key: await deps.links.codeKey(),
      policy: deps.linkPolicy,
      ...(request.tag ? { tag: request.tag } : {}),
      ...(template ? { template: templateKey(template) } : {}),
    },
  };
}

/** The text as it will be sent, with placeholder codes: the same length and characters as the real ones. */
export function withPlaceholders(tracking: LinkTracking | undefined, text: string): string {
  if (!tracking) return text;
  const urls = findUrls(text);
  return shortenText(
    text,
    urls,
    tracking.base,
    urls.map(() => PLACEHOLDER_CODE),
  );
}

/**
 * The planned message with its short links: `source` is the text as the request made it; the text
 * is shortened with the message's own codes and analysed again (same segments as the placeholders).
 */
export function withLinks<M extends LinkedMessage>(
  tracking: LinkTracking,
  message: M,
  source: string,
  analyze: (text: string) => { text: string; encoding: 'GSM-7' | 'UCS-2'; segments: number },
  acceptedAt: Date,
): M {
  const urls = findUrls(source);
  if (urls.length === 0) return message;
  const codes = urls.map((_, k) => linkCode(tracking.key, message.messageId, k));
  const analysis = analyze(shortenText(source, urls, tracking.base, codes));
  const sentAt = message.scheduledAt ?? acceptedAt;
  const expiresAt = new Date(sentAt.getTime() + tracking.policy.expiryDays * DAY_MS).toISOString();
  const links = urls.map(({ url }, index): TrackedLink => ({
    code: codes[index]!,
    url,
    target: withUtm(url, tracking.policy.utm, tracking),
    messageId: message.messageId,
    batchId: message.messageId.replace(/-\d+$/, ''),
    index,
    round: 0,
    from: message.from.number,
    ...(tracking.app ? { app: tracking.app } : {}),
    ...(tracking.tag ? { tag: tracking.tag } : {}),
    ...(tracking.template ? { template: tracking.template } : {}),
    ...(message.reference ? { reference: message.reference } : {}),
    sentAt: sentAt.toISOString(),
    expiresAt,
  }));
  return { ...message, text: analysis.text, encoding: analysis.encoding, segments: analysis.segments, links };
}

/**
 * Stores the links of the messages that will be sent, moving a link whose code another message
 * holds to its next round's code (the message's text with it). Call before the point of no return.
 */
export async function storeLinks(deps: LinkDeps & { key?: Uint8Array }, recipients: LinkedMessage[]): Promise<void> {
  // Only messages that will be sent get links: not the opted out, the capped or the expired.
  const sendable = recipients.filter((r) => !r.optedOut && !r.capped && !r.expired && r.links && r.links.length > 0);
  if (sendable.length === 0) return;
  const key = deps.key ?? (await deps.links.codeKey());
  let pending: TrackedLink[] = sendable.flatMap((r) => r.links!);
  for (let round = 1; pending.length > 0; round++) {
    const taken = await deps.links.save(pending);
    if (taken.length === 0) return;
    if (round >= MAX_ROUNDS) throw new Error(`no free short-link code after ${MAX_ROUNDS} rounds`);
    pending = taken.map((link) => {
      const moved = { ...link, code: linkCode(key, link.messageId, link.index, link.round + 1), round: link.round + 1 };
      const message = sendable.find((r) => r.messageId === link.messageId)!;
      message.text = message.text.replace(`/${link.code}`, `/${moved.code}`);
      message.links = message.links!.map((l) => (l.index === link.index ? moved : l));
      return moved;
    });
  }
}
