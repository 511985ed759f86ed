// Tracked links on the fakes: every URL of a tracked request becomes a short link of its own per
// message, before segments are counted; the links are stored before the point of no return, the
// same codes come back for a retry with the same Idempotency-Key, and a taken code moves on.
import { beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { depsOf } from '../../shared/composition.js';
import { loadConfig, type ConfigError } from '../../shared/config.js';
import { messageIdOf } from '../../shared/domain/ids.js';
import {
  codesIn,
  findUrls,
  linkCode,
  LINK_CODE_PATTERN,
  tracksLinks,
  visitorOf,
  withUtm,
  type LinkPolicy,
} from '../../shared/domain/links.js';
import { previewView } from '../../shared/http/messagePreview.js';
import { submitMessagesRequest, submitResponse } from '../../shared/http/messages.js';
import { previewMessages } from '../../shared/pipeline/previewMessages.js';
import { processSendJob } from '../../shared/pipeline/send/processSendJob.js';
import { submitMessages } from '../../shared/pipeline/submitMessages.js';
import { putTemplate } from '../../shared/pipeline/templates.js';
import { factsOf } from '../../shared/domain/analytics.js';
import type { PipelineEvent } from '../../shared/domain/events.js';
import type { EventDestination } from '../../shared/ports/events.js';
import { mergePrices } from '../../shared/domain/pricing.js';
import { followLinkResponse } from '../../shared/http/links.js';
import { buildReport, type AnalyticsRow } from '../../shared/domain/analyticsReport.js';
import { analyticsBody, analyticsCsv } from '../../shared/http/analytics.js';
import { eraseSubject } from '../../shared/pipeline/eraseSubject.js';
import { followLink, type FollowLinkResult } from '../../shared/pipeline/followLink.js';
import { DependencyUnavailableError } from '../../shared/ports/errors.js';
import { defaultSendRules, fakeServices, shortCode, silentLogger, type FakeServices } from '../support/fakes.js';
import { TEST_LINK_POLICY } from '../support/linkFakes.js';
import { parseFrequencyCaps } from '../../shared/domain/frequencyCap.js';

let s: FakeServices;
let deps: ReturnType<typeof depsOf>;
/** Every event published, as an app's destination would get it. */
let published: PipelineEvent[];

const setup = (links: Partial<LinkPolicy> = {}) => {
  published = [];
  const app: EventDestination = { name: 'app', immediate: true, deliver: async (events) => void published.push(...events) };
  s = fakeServices({ config: { senders: [shortCode], links: { ...TEST_LINK_POLICY, ...links } }, destinations: [app] });
  deps = depsOf(s);
};
beforeEach(() => setup());

const people = (n: number) => Array.from({ length: n }, (_, i) => `+1425555${String(1000 + i)}`);
const body = (value: unknown) => submitMessagesRequest.parse(value);
const submit = async (value: unknown, operation = {}) => {
  const result = await submitMessages(deps.submit(silentLogger), body(value), operation);
  if (result.kind !== 'accepted') throw new Error(JSON.stringify(result));
  return { ...result, response: submitResponse(result) };
};
async function drain(): Promise<void> {
  for (let job = s.queue.take(); job; job = s.queue.take()) await processSendJob(deps.send(silentLogger), job);
}
const TWO_URLS = 'Sale! https://shop.example.com/spring?ref=sms and http://example.org/a/b. Reply STOP to end';
const BASE = TEST_LINK_POLICY.base!;

describe('the rules', () => {
  it('finds http(s) URLs without the punctuation that ends a sentence', () => {
    expect(findUrls(TWO_URLS).map((u) => u.url)).toEqual(['https://shop.example.com/spring?ref=sms', 'http://example.org/a/b']);
    expect(findUrls('(see https://x.example/p), or ftp://no.example and https://').map((u) => u.url)).toEqual([
      'https://x.example/p',
    ]);
  });

  it('makes 8-character codes from a keyed hash: the same for the same message and place, unrelated otherwise', () => {
    const key = new Uint8Array(32).fill(7);
    const code = linkCode(key, 'batch-000', 0);
    expect(code).toMatch(LINK_CODE_PATTERN);
    expect(linkCode(key, 'batch-000', 0)).toBe(code);
    expect(linkCode(key, 'batch-000', 1)).not.toBe(code);
    expect(linkCode(key, 'batch-000', 0, 1)).not.toBe(code);
    expect(linkCode(new Uint8Array(32).fill(8), 'batch-000', 0)).not.toBe(code);
    // Spread over the whole alphabet: every character shows up over a few thousand codes.
    const seen = new Set([...Array.from({ length: 2000 }, (_, i) => linkCode(key, `m-${i}`, 0)).join('')]);
    expect(seen.size).toBe(62);
  });

  it('tells link-preview fetchers and bots from people by their published user agents', () => {
    for (const ua of [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0',
      'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
      'WhatsApp/2.23.20.0',
      'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
      'Slack-ImgProxy (+https://api.slack.com/robots)',
      'Twitterbot/1.0',
      'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
      'TelegramBot (like TwitterBot)',
      'curl/8.5.0',
      'python-requests/2.31',
      '',
    ])
      expect([ua, visitorOf(ua)]).toEqual([ua, 'preview']);
    for (const ua of [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    ])
      expect(visitorOf(ua)).toBe('person');
  });

  it('adds the UTM parameters a URL does not have, and decides tracking by request, template, tag, default', () => {
    const utm = { utm_source: 'sms', utm_campaign: '{tag}' };
    expect(withUtm('https://a.example/p?utm_source=mail&x=1', utm, { tag: 'spring' })).toBe(
      'https://a.example/p?utm_source=mail&x=1&utm_campaign=spring',
    );
    const policy: LinkPolicy = {
      ...TEST_LINK_POLICY,
      tracking: { default: true, tags: { otp: false }, templates: { promo: true } },
    };
    expect(tracksLinks(policy, {})).toBe(true);
    expect(tracksLinks(policy, { tag: 'otp' })).toBe(false);
    expect(tracksLinks(policy, { tag: 'otp', template: 'promo' })).toBe(true);
    expect(tracksLinks(policy, { tag: 'otp', template: 'promo', trackLinks: false })).toBe(false);
  });
});

describe('a tracked submit', () => {
  it('a message with two URLs to 100 recipients gets 200 distinct codes, each stored with its URL', async () => {
    const to = people(100);
    const result = await submit({ to, message: TWO_URLS, trackLinks: true });
    expect(result.response.messages).toHaveLength(100);
    const codes = result.plan.recipients.flatMap((r) => codesIn(r.text, BASE));
    expect(codes).toHaveLength(200);
    expect(new Set(codes).size).toBe(200);
    for (const r of result.plan.recipients) {
      expect(r.text).toMatch(
        /^Sale! https:\/\/go\.example\.test\/[0-9A-Za-z]{8} and https:\/\/go\.example\.test\/[0-9A-Za-z]{8}\. Reply STOP to end$/,
      );
      const [first, second] = codesIn(r.text, BASE);
      expect(s.links.links.get(first!)?.link).toMatchObject({
        url: 'https://shop.example.com/spring?ref=sms',
        messageId: r.messageId,
        index: 0,
      });
      expect(s.links.links.get(second!)?.link).toMatchObject({ url: 'http://example.org/a/b', messageId: r.messageId, index: 1 });
    }
    // What is recorded and sent is the shortened text.
    await drain();
    expect(s.gateway.delivered).toHaveLength(100);
    for (const d of s.gateway.delivered) expect(d).not.toContain('shop.example.com');
    expect(s.messages.rows.get(messageIdOf(result.plan.batchId, 0))!.body).toBe(result.plan.recipients[0]!.text);
  });

  it('counts segments on the shortened text, in the preview too, and they are the segments sent', async () => {
    const long = `Your order shipped: https://tracking.example.com/${'x'.repeat(150)} details inside`;
    const plain = await previewMessages(deps.preview(), body({ to: people(2), message: long }));
    const tracked = await previewMessages(deps.preview(), body({ to: people(2), message: long, trackLinks: true }));
    if (plain.kind !== 'preview' || tracked.kind !== 'preview') throw new Error('not planned');
    expect(plain.preview.plan.segments).toBe(2);
    expect(tracked.preview.plan.recipients.map((r) => r.segments)).toEqual([1, 1]);
    expect(JSON.stringify(previewView(tracked.preview))).toContain('go.example.test/');
    expect(s.links.links.size).toBe(0); // a preview stores nothing
    const sent = await submit({ to: people(2), message: long, trackLinks: true });
    expect(sent.response.messages.map((m) => m.segments)).toEqual([1, 1]);
  });

  it('a retry with the same Idempotency-Key (same batch, resumed) makes the same codes and stores nothing new', async () => {
    const first = await submit({ to: people(150), message: TWO_URLS, trackLinks: true });
    const stored = new Map([...s.links.links].map(([code, e]) => [code, e.link.messageId]));
    const again = await submit(
      { to: people(150), message: TWO_URLS, trackLinks: true },
      { batchId: first.plan.batchId, resumed: true },
    );
    expect(again.plan.recipients.map((r) => r.text)).toEqual(first.plan.recipients.map((r) => r.text));
    expect(new Map([...s.links.links].map(([code, e]) => [code, e.link.messageId]))).toEqual(stored);
  });

  it('storage failing while the links are stored stops the submit before its point of no return; the retry makes the same codes', async () => {
    const save = s.links.save.bind(s.links);
    let calls = 0;
    s.links.save = async (links) => {
      // The first write lands halfway, then storage stops answering.
      if (calls++ === 0) {
        await save(links.slice(0, 50));
        throw new DependencyUnavailableError('storage', 'store link: timed out', { uncertain: true });
      }
      return save(links);
    };
    const batchId = '0000000000bbbbbbbbbbbb';
    await expect(
      submitMessages(deps.submit(silentLogger), body({ to: people(150), message: TWO_URLS, trackLinks: true }), { batchId }),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(s.queue.jobs.length + s.messages.rows.size).toBe(0);
    const retry = await submit({ to: people(150), message: TWO_URLS, trackLinks: true }, { batchId, resumed: true });
    const codes = retry.plan.recipients.flatMap((r) => codesIn(r.text, BASE));
    expect(new Set(codes).size).toBe(300);
    expect(codes.every((c) => s.links.links.has(c))).toBe(true);
    expect(s.links.links.size).toBe(300);
  });

  it('a code another message holds moves to the next round, in the text as in the store', async () => {
    // Another message already holds the code the first recipient's first link would get.
    const batchId = '0000000000aaaaaaaaaaaa';
    const code = linkCode(await s.links.codeKey(), messageIdOf(batchId, 0), 0);
    await s.links.save([{ ...(await sampleLink()), code, messageId: 'other-000' }]);
    const result = await submit({ to: people(3), message: TWO_URLS, trackLinks: true }, { batchId });
    const [first] = codesIn(result.plan.recipients[0]!.text, BASE);
    expect(first).not.toBe(code);
    expect(first).toBe(linkCode(await s.links.codeKey(), messageIdOf(batchId, 0), 0, 1));
    expect(s.links.links.get(first!)?.link).toMatchObject({ messageId: messageIdOf(batchId, 0), round: 1 });
    expect(s.links.links.get(code)?.link.messageId).toBe('other-000');
    expect(s.messages.rows.get(messageIdOf(batchId, 0))!.body).toContain(`/${first}`);
  });

  it('tracks by the LINK_TRACKING setting (tag, default) and refuses trackLinks without LINK_DOMAIN', async () => {
    setup({ tracking: { default: false, tags: { promo: true }, templates: {} } });
    const promo = await submit({ to: people(1), message: TWO_URLS, tag: 'promo' });
    expect(promo.plan.recipients[0]!.text).toContain(BASE);
    const other = await submit({ to: people(1), message: TWO_URLS, tag: 'news' });
    expect(other.plan.recipients[0]!.text).toBe(TWO_URLS);
    const optedOut = await submit({ to: people(1), message: TWO_URLS, tag: 'promo', trackLinks: false });
    expect(optedOut.plan.recipients[0]!.text).toBe(TWO_URLS);

    setup({ base: undefined });
    const refused = await submitMessages(deps.submit(silentLogger), body({ to: people(1), message: TWO_URLS, trackLinks: true }));
    expect(refused).toEqual({
      kind: 'invalid',
      errors: [{ field: 'trackLinks', message: 'needs the LINK_DOMAIN setting, which is not set' }],
    });
  });

  it("tracks a template by the setting, a variable's URL too, and the link knows its template", async () => {
    setup({ tracking: { default: false, tags: {}, templates: { offer: true } } });
    await putTemplate(deps.templates(), { name: 'offer', text: 'Hi {{name}}, see {{url}}', locales: {}, category: 'marketing' });
    const result = await submit({
      template: 'offer',
      to: people(2).map((to, i) => ({ to, variables: { name: `P${i}`, url: `https://shop.example.com/u/${i}` } })),
    });
    const [first, second] = result.plan.recipients.map((r) => codesIn(r.text, BASE)[0]!);
    expect(result.plan.recipients[0]!.text).toBe(`Hi P0, see ${BASE}/${first}`);
    expect(s.links.links.get(first!)!.link).toMatchObject({ url: 'https://shop.example.com/u/0', template: 'offer@1' });
    expect(s.links.links.get(second!)!.link.url).toBe('https://shop.example.com/u/1');
  });

  it('opted-out recipients get no stored links', async () => {
    const to = people(2);
    await s.optOuts.add({ sender: shortCode.number, recipient: to[1]!, source: 'api', at: s.clock.now().toISOString() });
    const result = await submit({ to, message: TWO_URLS, trackLinks: true });
    const codes = result.plan.recipients.map((r) => codesIn(r.text, BASE));
    expect(s.links.links.has(codes[0]![0]!)).toBe(true);
    expect(s.links.links.has(codes[1]![0]!)).toBe(false);
  });

  it('messages a frequency cap stops get no stored links (they are never sent)', async () => {
    const caps = parseFrequencyCaps('marketing:1/day');
    if (!caps.ok) throw new Error('caps');
    s = fakeServices({
      config: { senders: [shortCode], links: TEST_LINK_POLICY, sendRules: { ...defaultSendRules(), caps: caps.caps } },
    });
    deps = depsOf(s);
    const to = people(1);
    const first = await submit({ to, message: TWO_URLS, trackLinks: true, category: 'marketing' });
    const second = await submit({ to, message: TWO_URLS, trackLinks: true, category: 'marketing' });
    expect(second.records[0]!.status).toBe('suppressed');
    expect(s.links.links.has(codesIn(first.plan.recipients[0]!.text, BASE)[0]!)).toBe(true);
    expect(codesIn(second.plan.recipients[0]!.text, BASE).filter((c) => s.links.links.has(c))).toEqual([]);
  });

  it('a stored code only ever leads to a URL of the message that holds it (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.webUrl({ withQueryParameters: true }), { minLength: 1, maxLength: 4 }), async (urls) => {
        setup();
        const text = `Links: ${urls.join(' ')} end`;
        const result = await submit({ to: people(3), message: text, trackLinks: true });
        for (const r of result.plan.recipients) {
          for (const code of codesIn(r.text, BASE)) {
            const stored = s.links.links.get(code)!.link;
            expect(stored.messageId).toBe(r.messageId);
            expect(findUrls(text).map((u) => u.url)).toContain(stored.url);
          }
        }
      }),
      { numRuns: 20 },
    );
  }, 30_000);
});

describe('following a short link', () => {
  const PHONE_UA =
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
  const IMESSAGE_UA =
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0';
  const follow = (code: string, userAgent = PHONE_UA, method = 'GET') =>
    followLink(deps.followLink(silentLogger), code, { userAgent, method });
  const sent = async (utm: Record<string, string> = {}) => {
    setup({ utm });
    const result = await submit({ to: people(2), message: TWO_URLS, trackLinks: true, tag: 'spring' });
    return result.plan.recipients.map((r) => codesIn(r.text, BASE));
  };

  it('redirects to the URL that was in the message (with the UTM parameters), and nowhere else', async () => {
    const [[first, second]] = (await sent({ utm_source: 'sms', utm_campaign: '{tag}' })) as [[string, string]];
    expect(await follow(first)).toEqual({
      kind: 'redirect',
      location: 'https://shop.example.com/spring?ref=sms&utm_source=sms&utm_campaign=spring',
      visitor: 'person',
    });
    expect(await follow(second)).toMatchObject({ location: 'http://example.org/a/b?utm_source=sms&utm_campaign=spring' });
    expect(s.links.links.get(first)!.link.url).toBe('https://shop.example.com/spring?ref=sms');
    const response = followLinkResponse((await follow(first)) as FollowLinkResult);
    expect(response).toMatchObject({
      status: 302,
      headers: { location: expect.stringContaining('shop.example.com'), 'cache-control': 'no-store' },
    });
    expect(response.body).toBeUndefined();
  });

  it('10,000 random codes find nothing: 404, one point read each at most, nothing written', async () => {
    await sent();
    const stored = s.links.links.size;
    s.links.reads = 0;
    const random = fc.sample(fc.stringMatching(/^[0-9A-Za-z]{8}$/), 10_000);
    let found = 0;
    for (const code of random) if ((await follow(code)).kind !== 'notFound') found++;
    expect(found).toBe(0);
    expect(s.links.reads).toBeLessThanOrEqual(10_000);
    expect(s.links.links.size).toBe(stored);
    expect([...s.links.links.values()].every((e) => e.visits.clicks + e.visits.previews === 0)).toBe(true);
    // Not a code at all (too long, other characters, a URL): no read.
    s.links.reads = 0;
    for (const code of ['', 'abc', 'abcdefghi', 'abc/defg', 'https://evil.example', '../../xx'])
      expect(await follow(code)).toEqual({ kind: 'notFound' });
    expect(s.links.reads).toBe(0);
    const problem = followLinkResponse({ kind: 'notFound' });
    expect(problem.status).toBe(404);
    expect(problem.headers['content-type']).toBe('application/problem+json');
  });

  it('when counting fails the person still lands on the page, and the log says so without personal data', async () => {
    const [[code]] = (await sent()) as [[string]];
    s.analytics.record = async () => {
      throw new DependencyUnavailableError('storage', 'record facts: timed out', { uncertain: true });
    };
    const lines: Array<[string, unknown]> = [];
    const log = { ...silentLogger, warn: (message: string, properties?: unknown) => void lines.push([message, properties]) };
    const result = await followLink(deps.followLink(log), code, { userAgent: PHONE_UA, method: 'GET' });
    expect(result).toMatchObject({ kind: 'redirect', location: 'https://shop.example.com/spring?ref=sms' });
    expect(lines).toEqual([['link visit not recorded', { error: 'DependencyUnavailableError' }]]);
  });

  it('an expired link is 404', async () => {
    const [[code]] = (await sent()) as [[string]];
    s.clock.time += 90 * 86_400_000 + 1000;
    expect(await follow(code)).toEqual({ kind: 'notFound' });
  });

  it('a link-preview fetcher (iMessage, WhatsApp, Slack …) or a HEAD is counted as a preview, not a click, and announces nothing', async () => {
    const [[code]] = (await sent()) as [[string]];
    expect(await follow(code, IMESSAGE_UA)).toMatchObject({ kind: 'redirect', visitor: 'preview' });
    expect(await follow(code, 'WhatsApp/2.23.20.0')).toMatchObject({ visitor: 'preview' });
    expect(await follow(code, PHONE_UA, 'HEAD')).toMatchObject({ visitor: 'preview' });
    expect(s.links.links.get(code)!.visits).toMatchObject({ clicks: 0, previews: 3 });
    expect(s.links.links.get(code)!.visits.firstClickAt).toBeUndefined();
    expect([...s.analytics.facts.values()].map((f) => f.tally)).toEqual([
      { linkPreviews: 1 },
      { linkPreviews: 1 },
      { linkPreviews: 1 },
    ]);
    expect(published.filter((e) => e.type === 'sms.message.clicked')).toEqual([]);
  });

  it("a person's clicks count each; the message's first click is sms.message.clicked once, whichever link", async () => {
    const [[first, second], [other]] = (await sent()) as [[string, string], [string]];
    s.clock.time += 90_000;
    await follow(first);
    await follow(first);
    await follow(second);
    await follow(other);
    expect(s.links.links.get(first)!.visits).toMatchObject({ clicks: 2, previews: 0, firstClickAt: s.clock.now().toISOString() });
    const clicked = published.filter((e) => e.type === 'sms.message.clicked');
    expect(clicked.map((e) => e.id)).toEqual([
      `${s.links.links.get(first)!.link.messageId}.clicked`,
      `${s.links.links.get(other)!.link.messageId}.clicked`,
    ]);
    expect(clicked[0]!.data).toMatchObject({
      url: 'https://shop.example.com/spring?ref=sms',
      tag: 'spring',
      secondsToClick: 90,
      from: shortCode.number,
    });
    expect(clicked[0]!.data).not.toHaveProperty('to');
    // Analytics: 4 clicks, 2 messages clicked, 90 s to each first click, counted in the hour they were sent.
    const tallies = [...s.analytics.facts.values(), ...clicked.flatMap((e) => factsOf(e, FACTS))];
    const sum = (name: string) => tallies.reduce((n, f) => n + ((f as { tally: Record<string, number> }).tally[name] ?? 0), 0);
    expect([sum('clicks'), sum('uniqueClicks'), sum('firstClickSeconds'), sum('submitted')]).toEqual([4, 2, 180, 0]);
  });

  it('two clicks at once on the same link both count, and the message is announced once', async () => {
    const [[first]] = (await sent()) as [[string]];
    await Promise.all([follow(first), follow(first), follow(first)]);
    expect(s.links.links.get(first)!.visits.clicks).toBe(3);
    expect(published.filter((e) => e.type === 'sms.message.clicked')).toHaveLength(1);
  });

  it("erasing the person erases their links and clicks: the codes answer 404 after; others' stay", async () => {
    const [[first, second], [other]] = (await sent()) as [[string, string], [string]];
    await follow(first);
    const person = s.links.links.get(first)!.link.messageId;
    const report = await eraseSubject(deps.erase(silentLogger), s.messages.rows.get(person)!.to);
    expect(report.erased.trackedLinks).toBe(2);
    expect(await follow(first)).toEqual({ kind: 'notFound' });
    expect(await follow(second)).toEqual({ kind: 'notFound' });
    expect(s.links.clicked.has(person)).toBe(false);
    expect(await follow(other)).toMatchObject({ kind: 'redirect' });
  });
});

describe('the settings', () => {
  const local = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    OUTBOUND_QUEUE_TRANSPORT: 'storage',
    ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:7081/;accesskey=a2V5',
    SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
  };
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig({ ...local, ...env });
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it('reads LINK_* into the policy, https for a domain and http for loopback, 90 days by default', () => {
    expect(loadConfig(local).links).toEqual({ tracking: { default: false, tags: {}, templates: {} }, utm: {}, expiryDays: 90 });
    const config = loadConfig({
      ...local,
      LINK_DOMAIN: 'go.contoso.com',
      LINK_TRACKING: '{"tags":{"promo":true},"templates":{"welcome":false}}',
      LINK_UTM: '{"utm_source":"sms"}',
      LINK_EXPIRY_DAYS: '30',
    });
    expect(config.links).toEqual({
      base: 'https://go.contoso.com',
      tracking: { default: false, tags: { promo: true }, templates: { welcome: false } },
      utm: { utm_source: 'sms' },
      expiryDays: 30,
    });
    expect(loadConfig({ ...local, LINK_DOMAIN: 'localhost:7071/api/l' }).links.base).toBe('http://localhost:7071/api/l');
  });

  it('names what is wrong', () => {
    expect(problemsOf({ LINK_DOMAIN: 'https://go.contoso.com' }).join()).toMatch(/LINK_DOMAIN.*host name/);
    expect(problemsOf({ LINK_TRACKING: '{"default":true}' })).toContain(
      'LINK_TRACKING turns link tracking on, which needs LINK_DOMAIN',
    );
    expect(problemsOf({ LINK_UTM: '{"source":"sms"}' }).join()).toMatch(/LINK_UTM.*"source" is not a UTM parameter/);
    expect(problemsOf({ LINK_EXPIRY_DAYS: '0' }).join()).toMatch(/LINK_EXPIRY_DAYS.*1 to 3650/);
  });
});

describe('click figures', () => {
  it('CTR is unique human clicks / delivered, time to first click their mean, per group and in the CSV', () => {
    const day = '2026-11-25';
    const rows: AnalyticsRow[] = [
      {
        bucket: day,
        tag: 'spring',
        sender: '+18005550100',
        template: '',
        tally: { delivered: 200, clicks: 70, uniqueClicks: 50, firstClickSeconds: 50 * 120, linkPreviews: 30 },
      },
      { bucket: day, tag: 'news', sender: '+18005550100', template: '', tally: { delivered: 100 } },
    ];
    const query = { from: new Date(`${day}T00:00:00Z`), to: new Date('2026-11-26T00:00:00Z'), groupBy: 'tag' as const };
    const report = buildReport(rows, query);
    expect(report.totals).toMatchObject({
      clicks: 70,
      uniqueClicks: 50,
      linkPreviews: 30,
      clickThroughRate: 0.1667,
      timeToFirstClickSeconds: 120,
    });
    expect(report.groups.map((g) => [g.key, g.clickThroughRate, g.timeToFirstClickSeconds])).toEqual([
      ['news', 0, null],
      ['spring', 0.25, 120],
    ]);
    const csv = analyticsCsv(analyticsBody(query, report, { currency: 'USD', responseWindowMs: 3600_000 }));
    const [header, news, spring] = csv
      .trim()
      .split('\r\n')
      .map((line) => line.split(','));
    const column = (name: string) => header!.indexOf(name);
    expect(column('clickThroughRate')).toBeGreaterThan(0);
    expect([spring![column('clickThroughRate')], spring![column('uniqueClicks')], news![column('clicks')]]).toEqual([
      '0.25',
      '50',
      '0',
    ]);
  });
});

const FACTS = { senderType: () => 'shortCode' as const, prices: mergePrices(), responseWindowMs: 3600_000 };

async function sampleLink() {
  return {
    code: 'AAAAAAAA',
    url: 'https://other.example/',
    target: 'https://other.example/',
    messageId: 'other-000',
    batchId: 'other',
    index: 0,
    round: 0,
    from: shortCode.number,
    sentAt: new Date(0).toISOString(),
    expiresAt: new Date(90 * 86_400_000).toISOString(),
  };
}
