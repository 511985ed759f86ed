// Analytics: an EventDestination that turns the pipeline's events into facts and records each
// exactly once in the AnalyticsStore, and the read side behind GET /api/analytics. The arithmetic
// is in domain/analytics.ts; how counters are laid out in storage is the store's business
// (docs/analytics.md).
import { factsOf, type FactContext } from '../domain/analytics.js';
import { buildReport, type Report, type ReportQuery } from '../domain/analyticsReport.js';
import { MESSAGE_STATUSES } from '../domain/messageStatus.js';
import { guessSenderType, type PriceTable } from '../domain/pricing.js';
import type { Sender } from '../domain/sender.js';
import type { AnalyticsStore } from '../ports/analytics.js';
import type { EventDestination } from '../ports/events.js';

export interface AnalyticsSettings {
  prices: PriceTable;
  responseWindowMs: number;
}

/** Every event type analytics counts. */
export const ANALYTICS_EVENT_TYPES: ReadonlySet<string> = new Set([
  ...MESSAGE_STATUSES.map((s) => `sms.message.${s}`),
  'sms.message.clicked',
  'sms.inbound.received',
  'sms.optout.added',
  'sms.optout.removed',
  'sms.destination.refused',
]);

export const ANALYTICS_DESTINATION = 'analytics';

/** The destination dispatchEvents delivers to; safe to deliver the same events again. */
export function analyticsDestination(
  store: AnalyticsStore,
  settings: AnalyticsSettings,
  senders: readonly Sender[],
): EventDestination {
  const types = new Map(senders.map((s) => [s.number, s.type]));
  const context: FactContext = {
    senderType: (number) => types.get(number) ?? guessSenderType(number),
    prices: settings.prices,
    responseWindowMs: settings.responseWindowMs,
  };
  return {
    name: ANALYTICS_DESTINATION,
    types: ANALYTICS_EVENT_TYPES,
    // Its own tables: counted as the change is recorded, without a trip through the outbox.
    immediate: true,
    async deliver(events) {
      const facts = events.flatMap((event) => factsOf(event, context));
      if (facts.length > 0) await store.record(facts);
    },
  };
}

/** True when `at` is midnight UTC. */
function isDayBoundary(at: Date): boolean {
  return at.getTime() % 86_400_000 === 0;
}

/** The report for a validated query: daily counters when the range is whole days, else hourly ones. */
export async function readAnalytics(store: AnalyticsStore, query: ReportQuery): Promise<Report> {
  const resolution = query.groupBy !== 'hour' && isDayBoundary(query.from) && isDayBoundary(query.to) ? 'day' : 'hour';
  const rows = await store.read({
    from: query.from,
    to: query.to,
    resolution,
    ...(query.tag !== undefined ? { tag: query.tag } : {}),
    ...(query.sender !== undefined ? { sender: query.sender } : {}),
    ...(query.template !== undefined ? { template: query.template } : {}),
    ...(query.app !== undefined ? { app: query.app } : {}),
  });
  return buildReport(rows, query);
}
