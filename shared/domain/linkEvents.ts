// What a visit of a tracked link changes, pure: the link's visit counts, the analytics facts of the
// visit, and sms.message.clicked for a message's first click by a person.
import { DEFAULT_APP } from './caller.js';
import type { AnalyticsFact } from './analytics.js';
import type { ClickEventData, PipelineEvent } from './events.js';
import type { LinkVisits, TrackedLink, Visitor } from './links.js';

/** The link's visits after one more by `visitor` at `at`. */
export function visited(visits: LinkVisits, visitor: Visitor, at: Date): LinkVisits {
  const iso = at.toISOString();
  return visitor === 'person'
    ? { ...visits, clicks: visits.clicks + 1, firstClickAt: visits.firstClickAt ?? iso, lastVisitAt: iso }
    : { ...visits, previews: visits.previews + 1, lastVisitAt: iso };
}

/**
 * The fact of the n-th click (or preview) of a link: keyed by the code and n, so each visit counts
 * once however often it is recorded; in the hour the message went, as its delivery is.
 */
export function visitFact(link: TrackedLink, visitor: Visitor, visits: LinkVisits): AnalyticsFact {
  const click = visitor === 'person';
  return {
    key: `${click ? 'k' : 'p'}:${link.code}.${click ? visits.clicks : visits.previews}`,
    at: link.sentAt,
    tag: link.tag ?? '',
    sender: link.from,
    template: link.template ?? '',
    ...(link.app && link.app !== DEFAULT_APP ? { app: link.app } : {}),
    tally: click ? { clicks: 1 } : { linkPreviews: 1 },
  };
}

/** sms.message.clicked: one per message (its id is the message's), whichever of its links was clicked first. */
export function clickEvent(source: string, link: TrackedLink, at: Date): PipelineEvent<ClickEventData> {
  const data: ClickEventData = {
    messageId: link.messageId,
    batchId: link.batchId,
    ...(link.app ? { app: link.app } : {}),
    from: link.from,
    ...(link.tag ? { tag: link.tag } : {}),
    ...(link.template ? { template: link.template } : {}),
    ...(link.reference ? { reference: link.reference } : {}),
    url: link.url,
    target: link.target,
    clickedAt: at.toISOString(),
    sentAt: link.sentAt,
    secondsToClick: Math.max(0, Math.round((at.getTime() - Date.parse(link.sentAt)) / 1000)),
  };
  return {
    specversion: '1.0',
    id: `${link.messageId}.clicked`,
    source,
    type: 'sms.message.clicked',
    subject: `messages/${link.messageId}`,
    time: data.clickedAt,
    datacontenttype: 'application/json',
    data,
  };
}
