// Following a short link (GET /l/{code}): one point read finds the link; an unknown, malformed or
// expired code is "not found" (nothing else is read or written). A known one redirects to the URL
// that was in its message — never anywhere a request names — and the visit is recorded on the link:
// a person's click, or a preview fetcher's or bot's visit, counted apart. A message's first click by
// a person is sms.message.clicked, once. Recording never stands between the person and the page:
// when it fails, the redirect still happens and the failure is logged (without personal data).
import { LINK_CODE_PATTERN, visitorOf, type TrackedLink, type Visitor } from '../domain/links.js';
import { clickEvent, visited, visitFact } from '../domain/linkEvents.js';
import type { AnalyticsStore } from '../ports/analytics.js';
import type { EventPublisher } from '../ports/events.js';
import type { LinkStore, StoredLink } from '../ports/links.js';
import type { Clock, Logger } from '../ports/runtime.js';
import { retryOnConflict } from './optimistic.js';

export interface FollowLinkDeps {
  links: LinkStore;
  analytics: AnalyticsStore;
  publisher: EventPublisher;
  clock: Clock;
  log: Logger;
  eventSource: string;
}

export type FollowLinkResult = { kind: 'redirect'; location: string; visitor: Visitor } | { kind: 'notFound' };

/** `userAgent` decides who visits; a HEAD request is never a person's click. */
export async function followLink(
  deps: FollowLinkDeps,
  code: string,
  visit: { userAgent?: string | null; method?: string },
): Promise<FollowLinkResult> {
  if (!LINK_CODE_PATTERN.test(code)) return { kind: 'notFound' };
  const stored = await deps.links.get(code);
  const now = deps.clock.now();
  if (!stored || !(Date.parse(stored.link.expiresAt) > now.getTime())) return { kind: 'notFound' };
  const visitor = visit.method === 'HEAD' ? 'preview' : visitorOf(visit.userAgent);
  try {
    await recordVisit(deps, stored, visitor, now);
  } catch (error) {
    deps.log.warn('link visit not recorded', { error: error instanceof Error ? error.name : 'unknown' });
  }
  return { kind: 'redirect', location: stored.link.target, visitor };
}

async function recordVisit(deps: FollowLinkDeps, first: StoredLink, visitor: Visitor, at: Date): Promise<void> {
  const link: TrackedLink = first.link;
  const { visits, firstOfLink } = await retryOnConflict(async (round) => {
    const current = round === 1 ? first : await deps.links.get(link.code);
    if (!current) throw new Error('the link was erased meanwhile');
    const next = visited(current.visits, visitor, at);
    await deps.links.saveVisits(link.code, next, current.etag);
    return { visits: next, firstOfLink: visitor === 'person' && !current.visits.firstClickAt };
  });
  await deps.analytics.record([visitFact(link, visitor, visits)]);
  // A message's first click: its other links' first clicks find the mark already there.
  if (firstOfLink && (await deps.links.claimFirstClick(link.messageId, at.toISOString()))) {
    try {
      await deps.publisher.publish([clickEvent(deps.eventSource, link, at)]);
    } catch (error) {
      // Unmarked again, so the message's next first click of a link announces it.
      await deps.links.erase([], [link.messageId]);
      throw error;
    }
  }
}
