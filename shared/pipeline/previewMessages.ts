// A dry run of a submit: what it would do — each text after smart encoding with its encoding and
// segments, the sender and opt-out verdict per recipient, the segments billed and their estimated
// cost — without enqueuing, recording or reserving anything. It is the submit's own plan.
import { countryOf } from '../domain/countries.js';
import { costMicros, pricePerSegment, PRICE_CURRENCY, type PriceTable } from '../domain/pricing.js';
import type { FieldError } from '../domain/validation.js';
import type { GeoRefused } from './guard/geoPermissions.js';
import { planSubmit, type PlanDeps, type SubmitPlan, type SubmitRequest } from './submitMessages.js';

export type { PlanDeps } from './submitMessages.js';

export interface PreviewDeps extends PlanDeps {
  /** ANALYTICS_SMS_PRICES: the same prices analytics estimates cost with. */
  prices: PriceTable;
}

/** A plan with what it would cost. */
export interface Preview {
  plan: SubmitPlan;
  /** Segments of the sendable messages, summed: what is billed. */
  segments: number;
  distinctTexts: number;
  estimatedCost: number;
  currency: string;
}

export type PreviewResult = { kind: 'preview'; preview: Preview } | { kind: 'invalid'; errors: FieldError[] } | GeoRefused;

/** The preview of `request` as `app` would submit it: from the app's pool, with its defaults. */
export async function previewMessages(deps: PreviewDeps, request: SubmitRequest, app?: string): Promise<PreviewResult> {
  const planned = await planSubmit(deps, request, undefined, app);
  if (planned.kind !== 'plan') return planned;
  const sendable = planned.plan.recipients.filter((r) => !r.optedOut && !r.expired);
  const micros = sendable.reduce(
    (sum, r) => sum + costMicros(r.segments, pricePerSegment(deps.prices, r.from.type, countryOf(r.to))),
    0,
  );
  return {
    kind: 'preview',
    preview: {
      plan: planned.plan,
      segments: sendable.reduce((sum, r) => sum + r.segments, 0),
      distinctTexts: new Set(sendable.map((r) => r.text)).size,
      estimatedCost: micros / 1_000_000,
      currency: PRICE_CURRENCY,
    },
  };
}
