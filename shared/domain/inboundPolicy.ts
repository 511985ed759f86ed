// What the pipeline does with an inbound text, per sender: which words are keywords, what it
// answers, and how far an opt-out reaches. Pure: the settings come from shared/config.ts.
import type { SenderType } from './sender.js';
import {
  canonicalKeyword,
  DEFAULT_HELP_REPLY,
  DEFAULT_KEYWORDS,
  DEFAULT_START_REPLY,
  DEFAULT_STOP_REPLY,
  type KeywordClass,
  type KeywordLists,
} from './keywords.js';

/** Keyword lists as configured: a list given replaces the default list of that class. */
export interface KeywordOverrides {
  stop?: string[];
  start?: string[];
  help?: string[];
}

/** Reply texts as configured: a text, or null for "send no reply". */
export interface ReplyOverrides {
  stop?: string | null;
  start?: string | null;
  help?: string | null;
}

/** How far an opt-out reaches: the number that received STOP (carriers' rule), or the whole pool. */
export type OptOutScope = 'sender' | 'pool';

export interface InboundPolicy {
  scope: OptOutScope;
  /** Pool-wide lists, and lists per sender number that replace them class by class. */
  keywords: KeywordOverrides & { senders?: Record<string, KeywordOverrides> };
  /** Pool-wide texts, per sender type, and per sender number; the most specific wins. */
  replies: ReplyOverrides & { types?: Partial<Record<SenderType, ReplyOverrides>>; senders?: Record<string, ReplyOverrides> };
}

/**
 * On US toll-free numbers the carrier itself answers STOP and START (and blocks the number), so
 * by default the pipeline sends no reply of its own there: the person would get two.
 */
export const DEFAULT_REPLIES_BY_TYPE: Partial<Record<SenderType, ReplyOverrides>> = {
  tollFree: { stop: null, start: null },
};

export const DEFAULT_INBOUND_POLICY: InboundPolicy = { scope: 'sender', keywords: {}, replies: {} };

const CLASS_KEY: Record<KeywordClass, keyof KeywordOverrides> = { optOut: 'stop', optIn: 'start', help: 'help' };

/** The keyword lists that apply to texts received on `sender`. */
export function keywordsFor(policy: InboundPolicy, sender: string): KeywordLists {
  const own = policy.keywords.senders?.[sender] ?? {};
  const pick = (cls: KeywordClass): string[] => own[CLASS_KEY[cls]] ?? policy.keywords[CLASS_KEY[cls]] ?? DEFAULT_KEYWORDS[cls];
  return { optOut: pick('optOut'), optIn: pick('optIn'), help: pick('help') };
}

/**
 * The reply to a keyword received on `sender` (of `type`, when it is one of the pool), or
 * undefined for none. Precedence: sender number, sender type, the default for the type (none on
 * toll-free), pool-wide, the standard texts.
 */
export function replyFor(
  policy: InboundPolicy,
  sender: string,
  type: SenderType | undefined,
  keyword: KeywordClass,
): string | undefined {
  const key = CLASS_KEY[keyword];
  const layers: Array<ReplyOverrides | undefined> = [
    policy.replies.senders?.[sender],
    type ? policy.replies.types?.[type] : undefined,
    // The toll-free default outranks pool-wide texts: a pool-wide STOP text is meant for the
    // numbers whose carrier does not answer; setting types.tollFree is how to answer there too.
    type ? DEFAULT_REPLIES_BY_TYPE[type] : undefined,
    { stop: policy.replies.stop, start: policy.replies.start, help: policy.replies.help },
  ];
  for (const layer of layers) {
    if (layer && layer[key] !== undefined) return layer[key] ?? undefined;
  }
  return { optOut: DEFAULT_STOP_REPLY, optIn: DEFAULT_START_REPLY, help: DEFAULT_HELP_REPLY }[keyword];
}

/** Keywords that are in two classes for one sender: a configuration mistake, named. */
export function keywordConflicts(lists: KeywordLists): string[] {
  const seen = new Map<string, KeywordClass>();
  const conflicts: string[] = [];
  for (const cls of ['optOut', 'optIn', 'help'] as const) {
    for (const word of lists[cls]) {
      const k = canonicalKeyword(word);
      const other = seen.get(k);
      if (other && other !== cls) conflicts.push(`"${word}" is both a ${CLASS_KEY[other]} and a ${CLASS_KEY[cls]} keyword`);
      seen.set(k, cls);
    }
  }
  return conflicts;
}
