// SMS encoding and segments: GSM-7 (with its extension table) or UCS-2, and how many segments a
// text takes — what ACS charges for.
import { GSM7_BASIC, GSM7_EXTENSION } from './acsFacts.js';

/** The GSM 03.38 tables (acsFacts.ts); an extension character costs two septets (escape + character). */
export { GSM7_BASIC, GSM7_EXTENSION };

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

/** Typographic characters and their GSM-7 stand-ins (smart encoding). */
const SMART: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u2032': "'",
  '\u2035': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u201f': '"',
  '\u2033': '"',
  '\u2036': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u00ad': '',
  '\u2026': '...',
  '\u2022': '-',
  '\u00b7': '-',
  '\u00a0': ' ',
  '\u2000': ' ',
  '\u2001': ' ',
  '\u2002': ' ',
  '\u2003': ' ',
  '\u2004': ' ',
  '\u2005': ' ',
  '\u2006': ' ',
  '\u2007': ' ',
  '\u2008': ' ',
  '\u2009': ' ',
  '\u200a': ' ',
  '\u202f': ' ',
  '\u205f': ' ',
  '\u3000': ' ',
  '\u200b': '',
  '\u200c': '',
  '\u200d': '',
  '\u2060': '',
  '\ufeff': '',
  '\u2039': '<',
  '\u203a': '>',
  '\u02c6': '^',
  '\u02dc': '~',
};

export interface MessageAnalysis {
  /** The text as it will be sent (after smart encoding). */
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  /** Units per segment for this text: 160/153 or 70/67. */
  unitsPerSegment: number;
  /** Characters replaced by smart encoding. */
  replacements: number;
}

function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENSION.has(ch)) return false;
  return true;
}

/** Segments of a GSM-7 text; an escape pair never straddles two segments. */
function gsmSegments(text: string): { units: number; segments: number } {
  let units = 0;
  for (const ch of text) units += EXTENSION.has(ch) ? 2 : 1;
  if (units <= 160) return { units, segments: units === 0 ? 0 : 1 };
  let segments = 1;
  let used = 0;
  for (const ch of text) {
    const size = EXTENSION.has(ch) ? 2 : 1;
    if (used + size > 153) {
      segments++;
      used = 0;
    }
    used += size;
  }
  return { units, segments };
}

/** Segments of a UCS-2 text; a surrogate pair never straddles two segments. */
function ucs2Segments(text: string): { units: number; segments: number } {
  const units = text.length;
  if (units <= 70) return { units, segments: units === 0 ? 0 : 1 };
  let segments = 1;
  let used = 0;
  for (const ch of text) {
    const size = ch.length;
    if (used + size > 67) {
      segments++;
      used = 0;
    }
    used += size;
  }
  return { units, segments };
}

/**
 * Encoding and segment count of a text. With smart encoding (the default), typographic
 * characters are replaced only when that makes the whole text GSM-7; otherwise the text is kept.
 * An empty text has 0 segments (the API refuses empty texts).
 */
export function analyzeMessage(text: string, options: { smartEncoding?: boolean } = {}): MessageAnalysis {
  let sent = text;
  let replacements = 0;
  if (!isGsm7(text) && options.smartEncoding !== false) {
    let replaced = '';
    let count = 0;
    for (const ch of text) {
      const r = SMART[ch];
      if (r !== undefined) {
        replaced += r;
        count++;
      } else replaced += ch;
    }
    if (count > 0 && isGsm7(replaced)) {
      sent = replaced;
      replacements = count;
    }
  }
  if (isGsm7(sent)) {
    const { units, segments } = gsmSegments(sent);
    return { text: sent, encoding: 'GSM-7', segments, units, unitsPerSegment: segments > 1 ? 153 : 160, replacements };
  }
  const { units, segments } = ucs2Segments(sent);
  return { text: sent, encoding: 'UCS-2', segments, units, unitsPerSegment: segments > 1 ? 67 : 70, replacements };
}
