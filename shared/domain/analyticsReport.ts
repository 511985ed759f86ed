// Analytics reports, pure: summed counters (rows) turned into figures — rates, latency
// percentiles from the histogram, failures by code — totalled and grouped by day, hour, tag or
// sender. (What each event adds to which counter is domain/analytics.ts.)
import { DEFAULT_APP } from './caller.js';
import {
  FAILURE_CODE_PREFIX,
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  addTally,
  dayOf,
  failureCodeOf,
  hourOf,
  latencyProperty,
  type CounterName,
  type Tally,
} from './analytics.js';

/** Prometheus-style quantile of a histogram: linear within the bucket; the last bucket answers its lower bound. */
export function percentile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    const count = histogram[i] ?? 0;
    if (count > 0 && seen + count >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      const upper = LATENCY_BOUNDS_MS[i];
      if (upper === undefined) return lower;
      return Math.round(lower + ((upper - lower) * (rank - seen)) / count);
    }
    seen += count;
  }
  return LATENCY_BOUNDS_MS.at(-1)!;
}

/** A share as a fraction with 4 decimals; null when there is nothing to divide by. */
export function rate(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.round((part / whole) * 10_000) / 10_000;
}

/** What the API reports for a set of summed counters. */
export interface Figures {
  submitted: number;
  suppressed: number;
  sent: number;
  delivered: number;
  failed: number;
  expired: number;
  canceled: number;
  unknown: number;
  /** Of unknown: hand-overs whose outcome could not be known, decided at once (not after the reporting deadline). */
  uncertain: number;
  /** Messages held by a fraud hold (each time one was held). */
  held: number;
  /** Recipients refused at submit by the geo permissions. */
  geoRefused: number;
  /** Messages scheduled at submit for later by their recipient's quiet hours (or expired by them). */
  quietHours: number;
  /** Messages suppressed by a frequency cap of their recipient and category. */
  frequencyCapped: number;
  segmentsSent: number;
  segmentsDelivered: number;
  /** segments × price, in PRICE_CURRENCY. */
  estimatedCost: number;
  inbound: number;
  replies: number;
  answered: number;
  optOuts: number;
  optIns: number;
  helpRequests: number;
  /** delivered / (delivered + failed + expired + unknown). */
  deliveryRate: number | null;
  /** answered / delivered. */
  responseRate: number | null;
  /** optOuts / delivered. */
  optOutRate: number | null;
  /** Tracked links (docs/links.md): clicks by people, messages clicked, visits by preview fetchers and bots. */
  clicks: number;
  uniqueClicks: number;
  linkPreviews: number;
  /** uniqueClicks / delivered, at most 1. */
  clickThroughRate: number | null;
  /** Mean seconds from a message's send to its first click; null without clicks. */
  timeToFirstClickSeconds: number | null;
  latencyCount: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** Counts per LATENCY_BOUNDS_MS bucket, the last one for everything slower. */
  latencyHistogram: number[];
  /** Failed messages by code ("none" when the failure had none). */
  failedByCode: Record<string, number>;
}

export function figuresOf(tally: Readonly<Tally>): Figures {
  const n = (name: CounterName) => tally[name] ?? 0;
  const histogram = Array.from({ length: LATENCY_BUCKETS }, (_, i) => tally[latencyProperty(i)] ?? 0);
  const failedByCode: Record<string, number> = {};
  for (const [name, amount] of Object.entries(tally).sort(([a], [b]) => a.localeCompare(b))) {
    if (name.startsWith(FAILURE_CODE_PREFIX) && amount > 0) failedByCode[failureCodeOf(name)] = amount;
  }
  const delivered = n('delivered');
  return {
    submitted: n('submitted'),
    suppressed: n('suppressed'),
    sent: n('sent'),
    delivered,
    failed: n('failed'),
    expired: n('expired'),
    canceled: n('canceled'),
    unknown: n('unknown'),
    uncertain: n('uncertain'),
    held: n('held'),
    geoRefused: n('geoRefused'),
    quietHours: n('quietHours'),
    frequencyCapped: n('frequencyCapped'),
    segmentsSent: n('segmentsSent'),
    segmentsDelivered: n('segmentsDelivered'),
    estimatedCost: n('costMicros') / 1_000_000,
    inbound: n('inbound'),
    replies: n('replies'),
    answered: n('answered'),
    optOuts: n('optOuts'),
    optIns: n('optIns'),
    helpRequests: n('helpRequests'),
    deliveryRate: rate(delivered, delivered + n('failed') + n('expired') + n('unknown')),
    // Answers are counted in the hour the message was sent, deliveries when reported: at the edge
    // of a range the two can fall apart, so the share is capped at 1.
    responseRate: delivered > 0 ? Math.min(1, rate(n('answered'), delivered)!) : null,
    optOutRate: rate(n('optOuts'), delivered),
    clicks: n('clicks'),
    uniqueClicks: n('uniqueClicks'),
    linkPreviews: n('linkPreviews'),
    // Like answers, first clicks count in the hour the message was sent: capped at 1 at a range's edge.
    clickThroughRate: delivered > 0 ? Math.min(1, rate(n('uniqueClicks'), delivered)!) : null,
    timeToFirstClickSeconds: n('uniqueClicks') > 0 ? Math.round(n('firstClickSeconds') / n('uniqueClicks')) : null,
    latencyCount: histogram.reduce((a, b) => a + b, 0),
    latencyP50Ms: percentile(histogram, 0.5),
    latencyP95Ms: percentile(histogram, 0.95),
    latencyHistogram: histogram,
    failedByCode,
  };
}

export type GroupBy = 'day' | 'hour' | 'tag' | 'sender' | 'template' | 'templateVersion' | 'app';

/** The template name of a row's "name@version" ("" for none). */
const templateName = (template: string) => template.replace(/@\d+$/, '');

/** Summed counters of one stored bucket: a day ("2026-11-25") or an hour ("2026-11-25T10"). */
export interface AnalyticsRow {
  bucket: string;
  tag: string;
  sender: string;
  /** "name@version", "" for messages not rendered from a template. */
  template: string;
  /** The app; absent: the default app (its rows, like those older than apps, have none). */
  app?: string;
  tally: Tally;
}

export interface ReportQuery {
  /** Inclusive, on an hour boundary. */
  from: Date;
  /** Exclusive, on an hour boundary. */
  to: Date;
  groupBy: GroupBy;
  tag?: string;
  sender?: string;
  /** "name@3": one version; "name": every version. */
  template?: string;
  /** One app's figures (a caller confined to its app gets only its own). */
  app?: string;
}

export interface ReportGroup extends Figures {
  /** "2026-11-25", "2026-11-25T10:00:00Z", the tag, the sender, the template (or "name@version"); null for messages without a tag or template. */
  key: string | null;
}

export interface Report {
  totals: Figures;
  groups: ReportGroup[];
}

/** Sums rows into totals and groups; time groups cover the whole range, empty ones as zeros. */
export function buildReport(rows: readonly AnalyticsRow[], query: ReportQuery): Report {
  const totals: Tally = {};
  const groups = new Map<string, Tally>();
  const keyOf = (row: AnalyticsRow): string => {
    switch (query.groupBy) {
      case 'day':
        return row.bucket.slice(0, 10);
      case 'hour':
        return `${row.bucket.slice(0, 13)}:00:00Z`;
      case 'tag':
        return row.tag;
      case 'sender':
        return row.sender;
      case 'template':
        return templateName(row.template);
      case 'templateVersion':
        return row.template;
      case 'app':
        return row.app ?? DEFAULT_APP;
    }
  };
  if (query.groupBy === 'day' || query.groupBy === 'hour') {
    const step = query.groupBy === 'day' ? 86_400_000 : 3_600_000;
    const start = query.groupBy === 'day' ? Date.parse(`${dayOf(query.from)}T00:00:00Z`) : query.from.getTime();
    for (let t = start; t < query.to.getTime(); t += step) {
      groups.set(query.groupBy === 'day' ? dayOf(new Date(t)) : `${hourOf(new Date(t))}:00:00Z`, {});
    }
  }
  for (const row of rows) {
    const start = Date.parse(row.bucket.length === 10 ? `${row.bucket}T00:00:00Z` : `${row.bucket.slice(0, 13)}:00:00Z`);
    if (!(start >= query.from.getTime() && start < query.to.getTime())) continue;
    if (query.tag !== undefined && row.tag !== query.tag) continue;
    if (query.sender !== undefined && row.sender !== query.sender) continue;
    if (query.app !== undefined && (row.app ?? DEFAULT_APP) !== query.app) continue;
    if (query.template !== undefined && row.template !== query.template && templateName(row.template) !== query.template)
      continue;
    addTally(totals, row.tally);
    const key = keyOf(row);
    const group = groups.get(key) ?? {};
    groups.set(key, addTally(group, row.tally));
  }
  const ordered = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    totals: figuresOf(totals),
    groups: ordered.map(([key, tally]) => ({
      key: key === '' && ['tag', 'template', 'templateVersion'].includes(query.groupBy) ? null : key,
      ...figuresOf(tally),
    })),
  };
}
