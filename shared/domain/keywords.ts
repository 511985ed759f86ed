// Opt-out, opt-in and help keywords: a keyword is the whole (trimmed) message, never a word
// inside a sentence, so "Please stop by the office" is not an opt-out.

export type KeywordClass = 'optOut' | 'optIn' | 'help';

export interface KeywordLists {
  optOut: string[];
  optIn: string[];
  help: string[];
}

export const DEFAULT_KEYWORDS: KeywordLists = {
  optOut: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', 'OPT OUT', 'OPT-OUT'],
  optIn: ['START', 'UNSTOP', 'YES'],
  help: ['HELP', 'INFO'],
};

export const DEFAULT_STOP_REPLY =
  'You have successfully been unsubscribed to messages from this number. Reply START to resubscribe.';
export const DEFAULT_START_REPLY =
  'You have successfully been re-subscribed to messages from this number. Reply STOP to unsubscribe.';
export const DEFAULT_HELP_REPLY = 'Reply STOP to unsubscribe. Msg&data rates may apply.';

/**
 * The one form keywords are compared in: Unicode-compatible (full-width letters are letters),
 * trimmed, without trailing . or !, single spaces, upper case. "stop!" is "STOP".
 */
export function canonicalKeyword(text: string): string {
  return text
    .normalize('NFKC')
    .trim()
    .replace(/[.!]+$/u, '')
    .replace(/\s+/gu, ' ')
    .toUpperCase();
}

/** Classifies a whole message as a keyword, or null when it is an ordinary message. */
export function classifyKeyword(text: string, lists: KeywordLists = DEFAULT_KEYWORDS): KeywordClass | null {
  const t = canonicalKeyword(text);
  if (t === '') return null;
  const has = (list: string[]) => list.some((k) => canonicalKeyword(k) === t);
  if (has(lists.optOut)) return 'optOut';
  if (has(lists.optIn)) return 'optIn';
  if (has(lists.help)) return 'help';
  return null;
}
