// Geo permissions at submit: recipients in countries the permissions do not allow are refused, like
// invalid numbers — the whole request, or (partial requests) just them — and counted, per country,
// as sms.destination.refused events (analytics counts them as geoRefused).
import { randomUUID } from 'node:crypto';
import type { PipelineEvent } from '../../domain/events.js';
import { refusalEvent } from '../../domain/guardEvents.js';
import type { Clock } from '../../ports/runtime.js';

/** A recipient the geo permissions refuse: its field ("to[3]"), its country and the rule, never the number. */
export interface GeoRefusal {
  field: string;
  country: string | undefined;
  message: string;
}

/** A request refused because of recipients in countries the geo permissions do not allow (not partial, or none left). */
export interface GeoRefused {
  kind: 'refused';
  refusals: GeoRefusal[];
}

/**
 * sms.destination.refused per country: of a request refused whole (each refused request counts), or
 * of the recipients a partial batch was accepted without (ids from the batch: a retry is the same event).
 */
export function refusalEvents(
  deps: { clock: Clock; eventSource: string },
  refused: { refusals?: readonly GeoRefusal[]; byCountry?: Record<string, number>; batchId?: string },
  tag: string | undefined,
): PipelineEvent[] {
  const byCountry: Record<string, number> = { ...(refused.byCountry ?? {}) };
  for (const r of refused.refusals ?? []) byCountry[r.country ?? 'XX'] = (byCountry[r.country ?? 'XX'] ?? 0) + 1;
  const requestId = randomUUID();
  return Object.entries(byCountry).map(([country, recipients]) =>
    refusalEvent(
      deps.eventSource,
      { rule: 'geo', country, recipients, ...(tag ? { tag } : {}), ...(refused.batchId ? { batchId: refused.batchId } : {}) },
      deps.clock.now(),
      requestId,
    ),
  );
}
