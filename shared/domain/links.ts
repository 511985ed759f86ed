// Tracked links, pure: finding the http(s) URLs of a text, the short code of each (a keyed hash of
// the message id and the link's position, so every attempt at the same batch makes the same codes),
// the short link that replaces it, UTM parameters, which requests are tracked, and who a visitor is.
import { createHmac } from 'node:crypto';

/** A code is 8 characters of [0-9A-Za-z]: 62^8 ≈ 2.2e14 codes, so guessing one in bulk finds nothing. */
export const LINK_CODE_LENGTH = 8;
export const LINK_CODE_PATTERN = /^[0-9A-Za-z]{8}$/;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Links a message may have tracked: more are left as they are written. */
export const MAX_LINKS_PER_MESSAGE = 10;

/** Which messages get tracked links, and how they look (settings LINK_*). */
export interface LinkPolicy {
  /** "https://go.example.com" or "https://go.example.com/api/l": a short link is `${base}/${code}`; none: tracking is off. */
  base?: string;
  /** Tracked when the request does not say: by template name, else by tag, else the default. */
  tracking: { default: boolean; tags: Readonly<Record<string, boolean>>; templates: Readonly<Record<string, boolean>> };
  /** Added to every tracked URL that has none of its own ("{tag}" and "{template}" are replaced). */
  utm: Readonly<Record<string, string>>;
  /** Days a link answers after its message was accepted; then 404. */
  expiryDays: number;
}

/** A tracked link as stored: what its code leads to and whose it is. */
export interface TrackedLink {
  code: string;
  /** The URL as it was in the text. */
  url: string;
  /** Where the code redirects: the URL with the UTM parameters. */
  target: string;
  messageId: string;
  batchId: string;
  /** Position of the URL in the message (0-based). */
  index: number;
  /** The collision round that made the code (0 nearly always). */
  round: number;
  from: string;
  /** The app the message was sent for (domain/apps.ts): its click event is that app's. */
  app?: string;
  tag?: string;
  /** "name@version" of the template the text was rendered from. */
  template?: string;
  reference?: string;
  /** When the message was to go (its scheduled time, else its acceptance): time to first click counts from here. */
  sentAt: string;
  expiresAt: string;
}

/** What a link has seen; kept on the link, so erasing the link erases its clicks. */
export interface LinkVisits {
  clicks: number;
  previews: number;
  firstClickAt?: string;
  lastVisitAt?: string;
}

/**
 * http(s) URLs as people write them in texts: up to the first space, without trailing punctuation
 * that usually ends the sentence (".", ",", ")" …) rather than the URL.
 */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

export interface FoundUrl {
  url: string;
  start: number;
  end: number;
}

/** The URLs of a text, in order (at most MAX_LINKS_PER_MESSAGE). */
export function findUrls(text: string): FoundUrl[] {
  const out: FoundUrl[] = [];
  for (const m of text.matchAll(URL_PATTERN)) {
    const url = m[0].replace(TRAILING, '');
    if (!URL.canParse(url) || url.length <= 'https://'.length) continue;
    out.push({ url, start: m.index, end: m.index + url.length });
    if (out.length === MAX_LINKS_PER_MESSAGE) break;
  }
  return out;
}

/** The text with its k-th URL replaced by `${base}/${codes[k]}`. */
export function shortenText(text: string, urls: readonly FoundUrl[], base: string, codes: readonly string[]): string {
  let out = '';
  let at = 0;
  urls.forEach((u, k) => {
    out += `${text.slice(at, u.start)}${base}/${codes[k]}`;
    at = u.end;
  });
  return out + text.slice(at);
}

/** A code for planning (previews): same length and characters as a real one, so segments are exact. */
export const PLACEHOLDER_CODE = 'x'.repeat(LINK_CODE_LENGTH);

/**
 * The code of link `index` of `messageId`: HMAC-SHA256 under the deployment's code key (random,
 * made once), mapped onto the alphabet without bias. `round` moves to another code after a collision.
 */
export function linkCode(key: Uint8Array, messageId: string, index: number, round = 0): string {
  let code = '';
  for (let block = 0; code.length < LINK_CODE_LENGTH; block++) {
    const digest = createHmac('sha256', key).update(`${messageId}\n${index}\n${round}\n${block}`).digest();
    for (const byte of digest) {
      // 248 = 4 × 62: bytes above it are skipped, so every character is equally likely.
      if (byte < 248) code += ALPHABET[byte % 62];
      if (code.length === LINK_CODE_LENGTH) break;
    }
  }
  return code;
}

/** The redirect target: `url` with the UTM parameters it does not already have. */
export function withUtm(
  url: string,
  utm: Readonly<Record<string, string>>,
  context: { tag?: string; template?: string },
): string {
  const entries = Object.entries(utm);
  if (entries.length === 0 || !URL.canParse(url)) return url;
  const target = new URL(url);
  for (const [name, value] of entries) {
    if (target.searchParams.has(name)) continue;
    const filled = value.replace('{tag}', context.tag ?? '').replace('{template}', context.template ?? '');
    if (filled) target.searchParams.set(name, filled);
  }
  return target.toString();
}

/** Whether a request's links are tracked: its own trackLinks, else its template's, its tag's, the default. */
export function tracksLinks(policy: LinkPolicy, request: { trackLinks?: boolean; tag?: string; template?: string }): boolean {
  if (request.trackLinks !== undefined) return request.trackLinks;
  const byTemplate = request.template !== undefined ? policy.tracking.templates[request.template] : undefined;
  if (byTemplate !== undefined) return byTemplate;
  const byTag = request.tag !== undefined ? policy.tracking.tags[request.tag] : undefined;
  return byTag ?? policy.tracking.default;
}

/** The short link base for a LINK_DOMAIN ("go.example.com[/path]"): https, or http for a loopback host. */
export function linkBase(domain: string): string {
  const host = domain.split('/')[0]!.split(':')[0]!;
  const loopback = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  return `${loopback ? 'http' : 'https'}://${domain.replace(/\/+$/, '')}`;
}

/** The codes of the short links under `base` in a text (a stored message's body). */
export function codesIn(text: string, base: string): string[] {
  const out: string[] = [];
  let at = text.indexOf(`${base}/`);
  while (at !== -1) {
    const code = text.slice(at + base.length + 1, at + base.length + 1 + LINK_CODE_LENGTH);
    if (LINK_CODE_PATTERN.test(code)) out.push(code);
    at = text.indexOf(`${base}/`, at + 1);
  }
  return out;
}

// ---------- Who follows a link ----------

export type Visitor = 'person' | 'preview';

/**
 * Link-preview fetchers of messengers and social apps, and scanners: they fetch a link that nobody
 * clicked. Their published user agents:
 * - Apple Messages (iMessage) previews identify as "… facebookexternalhit/1.1 Facebot Twitterbot/1.0"
 *   (https://peter.upfold.org.uk/blog/2019/02, a request seen from iMessage);
 * - Meta (Facebook, Messenger, Instagram, WhatsApp's share previews): "facebookexternalhit/1.1
 *   (+http://www.facebook.com/externalhit_uatext.php)", "Facebot", "meta-externalagent"
 *   (https://developers.facebook.com/docs/sharing/webmasters/web-crawlers/);
 * - WhatsApp: "WhatsApp…"; Slack: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)" and
 *   "Slack-ImgProxy (+https://api.slack.com/robots)"; X/Twitter: "Twitterbot/…"
 *   (https://dev.twitter.com/cards/getting-started); Discordbot,
 *   TelegramBot, LinkedInBot, SkypeUriPreview, MicrosoftPreview, BingPreview, Viber, Iframely, Embedly
 *   — as collected with their sources in monperrus/crawler-user-agents (crawler-user-agents.json).
 */
const PREVIEW_FETCHERS =
  /facebookexternalhit|facebot|meta-externalagent|twitterbot|whatsapp|slackbot|slack-imgproxy|discordbot|telegrambot|linkedinbot|skypeuripreview|microsoftpreview|bingpreview|viber|iframely|embedly|pinterest|snapchat|redditbot|google-pagerenderer|applebot/i;
/** Anything that says it is a robot, and the HTTP libraries scanners use; no user agent at all too. */
const ROBOTS =
  /bot\b|bot\/|crawler|spider|scanner|preview|curl\/|wget\/|python-requests|python-urllib|go-http-client|java\/|okhttp|libwww|httpclient|axios\/|node-fetch|undici/i;

/** Whether a visit looks like a person (a click) or a preview fetcher, bot or scanner (counted apart). */
export function visitorOf(userAgent: string | null | undefined): Visitor {
  const ua = (userAgent ?? '').trim();
  if (ua === '') return 'preview';
  return PREVIEW_FETCHERS.test(ua) || ROBOTS.test(ua) ? 'preview' : 'person';
}

/** Every token of a text that could be a short link's code ("/" then 8 letters and digits): what erasure looks up. */
export function candidateCodes(text: string): string[] {
  return [...text.matchAll(/\/([0-9A-Za-z]{8})(?![0-9A-Za-z])/g)].map((m) => m[1]!);
}
