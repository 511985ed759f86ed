// Where analytics keeps its counters.
import type { AnalyticsFact } from '../domain/analytics.js';
import type { AnalyticsRow } from '../domain/analyticsReport.js';

export interface AnalyticsStore {
  /**
   * Adds each fact's tally to the counters of its hour and day, for its tag, sender and template, exactly once:
   * a fact whose key was recorded before changes nothing, however often it comes and in whatever
   * company. Throws when it could not record them all; recording again is then safe.
   */
  record(facts: readonly AnalyticsFact[]): Promise<void>;
  /** The counters of [from, to), per day or per hour, optionally of one tag, sender and/or template. */
  read(query: AnalyticsReadQuery): Promise<AnalyticsRow[]>;
}

export interface AnalyticsReadQuery {
  /** On an hour boundary (a day boundary for resolution "day"). */
  from: Date;
  to: Date;
  resolution: 'day' | 'hour';
  tag?: string;
  sender?: string;
  /** "name@3": one version of a template; "name": every version of it. */
  template?: string;
  /** One app's counters ("default": the default app's, which rows older than apps are). */
  app?: string;
}
