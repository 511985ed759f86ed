// The analytics resource — GET /api/analytics and the dashboard page: its query (validated with zod, then resolved into a UTC range on hour
// boundaries), its JSON answer (also the source of the OpenAPI document) and its CSV form.
import { z } from 'zod';
import { LATENCY_BOUNDS_MS } from '../domain/analytics.js';
import { APP_ID_PATTERN } from '../domain/apps.js';
import { type Figures, type GroupBy, type Report, type ReportQuery } from '../domain/analyticsReport.js';
import type { FieldError } from '../domain/validation.js';
import { toCsv } from './csv.js';
import { linkFigures } from './linkAnalytics.js';
import type { ApiRoute } from './route.js';

/** Longest range one request may cover, and the longest one grouped by hour. */
export const MAX_RANGE_DAYS = 400;
export const MAX_HOURLY_RANGE_DAYS = 31;
/** The default range: the last 7 days including today (grouped by hour: the last 24 hours). */
export const DEFAULT_RANGE_DAYS = 7;

const GROUP_BY = ['day', 'hour', 'tag', 'sender', 'template', 'templateVersion', 'app'] as const;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const dateOrDateTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  message: 'must be a date (2026-11-25) or an ISO 8601 date-time with a time zone (2026-11-25T10:00:00Z)',
});

/** Values arrive as strings. Not strict: the function key may come as ?code=. */
export const analyticsQuery = z.object({
  from: dateOrDateTime
    .optional()
    .describe(
      'Start of the range (UTC, inclusive). A date is that day from 00:00; a date-time is rounded down to its hour. ' +
        `Default: ${DEFAULT_RANGE_DAYS} days before \`to\` (24 hours with groupBy=hour).`,
    ),
  to: dateOrDateTime
    .optional()
    .describe(
      'End of the range (UTC). A date INCLUDES that day; a date-time is exclusive, rounded up to its hour. ' +
        'Default: the end of today (with groupBy=hour: the end of the current hour).',
    ),
  tag: z
    .string()
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits, _ . : -')
    .optional()
    .describe('Only messages of this campaign tag (and the replies and opt-outs attributed to it).'),
  sender: z
    .string()
    .regex(
      /^(\*|\+[1-9]\d{7,14}|(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11})$/,
      'must be an E.164 number such as +18005550100, an alphanumeric sender id, or *',
    )
    .optional()
    .describe('Only this sender number ("*": opt-outs from the whole pool).'),
  template: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(@[1-9]\d{0,9})?$/,
      'must be a template name, or a name and version such as appointment-reminder@3',
    )
    .optional()
    .describe(
      'Only messages rendered from this template ("appointment-reminder": every version; "appointment-reminder@3": that version).',
    ),
  app: z
    .string()
    .regex(APP_ID_PATTERN, 'must be an app id: 1-64 letters, digits, _ . -')
    .optional()
    .describe(
      'Only the figures of this app ("default": the default app\'s). A caller confined to its own app (docs/security.md "Apps") gets only its own whatever this says.',
    ),
  groupBy: z
    .enum(GROUP_BY, { message: `must be ${GROUP_BY.slice(0, -1).join(', ')} or ${GROUP_BY.at(-1)}` })
    .default('day')
    .describe(
      `How to split the figures into groups (default day). hour allows a range of at most ${MAX_HOURLY_RANGE_DAYS} days; template groups by template ` +
        'name, templateVersion by "name@version", app by the app the messages were sent for.',
    ),
  format: z
    .enum(['json', 'csv'], { message: 'must be json or csv' })
    .optional()
    .describe('json or csv; without it, `Accept: text/csv` asks for CSV and anything else gets JSON.'),
});

export type AnalyticsQueryInput = z.input<typeof analyticsQuery>;

export type ResolvedAnalyticsQuery = ReportQuery & { format?: 'json' | 'csv' };

const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

/** Validates the query and turns it into a range on hour boundaries; errors name the parameter. */
export function resolveAnalyticsQuery(
  raw: Record<string, string | undefined>,
  now: Date,
): { ok: true; query: ResolvedAnalyticsQuery } | { ok: false; errors: FieldError[] } {
  const parsed = analyticsQuery.safeParse(raw);
  if (!parsed.success)
    return { ok: false, errors: parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'query'), message: i.message })) };
  const q = parsed.data;
  const groupBy: GroupBy = q.groupBy;
  let to: number;
  if (q.to === undefined)
    to = groupBy === 'hour' ? floorTo(now.getTime(), HOUR_MS) + HOUR_MS : floorTo(now.getTime(), DAY_MS) + DAY_MS;
  else to = isDate(q.to) ? Date.parse(`${q.to}T00:00:00Z`) + DAY_MS : ceilTo(Date.parse(q.to), HOUR_MS);
  let from: number;
  if (q.from === undefined) from = to - (groupBy === 'hour' ? DAY_MS : DEFAULT_RANGE_DAYS * DAY_MS);
  else from = isDate(q.from) ? Date.parse(`${q.from}T00:00:00Z`) : floorTo(Date.parse(q.from), HOUR_MS);

  const errors: FieldError[] = [];
  if (!(from < to))
    errors.push({ field: q.to !== undefined ? 'to' : 'from', message: 'the range is empty: to must be after from' });
  else if (to - from > MAX_RANGE_DAYS * DAY_MS)
    errors.push({ field: 'from', message: `the range may cover at most ${MAX_RANGE_DAYS} days` });
  else if (groupBy === 'hour' && to - from > MAX_HOURLY_RANGE_DAYS * DAY_MS) {
    errors.push({
      field: 'groupBy',
      message: `hour allows a range of at most ${MAX_HOURLY_RANGE_DAYS} days; narrow from and to, or group by day`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    query: {
      from: new Date(from),
      to: new Date(to),
      groupBy,
      ...(q.tag !== undefined ? { tag: q.tag } : {}),
      ...(q.sender !== undefined ? { sender: q.sender } : {}),
      ...(q.template !== undefined ? { template: q.template } : {}),
      ...(q.app !== undefined ? { app: q.app } : {}),
      ...(q.format !== undefined ? { format: q.format } : {}),
    },
  };
}

const count = (what: string) => z.number().int().min(0).describe(what);
const share = (what: string) =>
  z.number().min(0).max(1).nullable().describe(`${what} A fraction with 4 decimals; null when the denominator is 0.`);

export const analyticsFigures = z.object({
  submitted: count(
    'Messages accepted by POST /api/messages (or enqueued as send jobs): queued, scheduled or suppressed at submit.',
  ),
  suppressed: count('Messages not sent because the recipient had opted out (at submit or right before the hand-over).'),
  sent: count('Messages handed to ACS (accepted by it).'),
  delivered: count('Messages ACS reported delivered.'),
  failed: count('Messages that failed: refused by ACS, reported failed, or given up after the last attempt. See failedByCode.'),
  expired: count('Messages not handed to ACS within their validity (validFor).'),
  canceled: count('Messages canceled with DELETE /api/messages/{id}.'),
  unknown: count('Messages without a final report by the reporting deadline (a later report still counts as delivered/failed).'),
  uncertain: count(
    "Of unknown: hand-overs interrupted mid-request past ACS's repeatability window, decided at once by SEND_UNCERTAIN_POLICY (see docs/sending.md).",
  ),
  held: count(
    'Messages held by a fraud hold as suspected SMS pumping (status "held"; each time one was held). See GET /api/holds.',
  ),
  quietHours: count(
    "Messages scheduled at submit for later because it was quiet hours in their recipient's time zone (SMS_QUIET_HOURS), or expired by them; see docs/sending.md.",
  ),
  frequencyCapped: count(
    'Messages suppressed because their recipient had the most messages of their category that SMS_FREQUENCY_CAPS allows (status reason "frequencyCap").',
  ),
  geoRefused: count(
    'Recipients refused at submit by the geo permissions (SMS_ALLOWED_COUNTRIES); counted without a sender ("*").',
  ),
  segmentsSent: count('Segments of the messages sent.'),
  segmentsDelivered: count('Segments the carrier reported delivered.'),
  estimatedCost: z
    .number()
    .min(0)
    .describe(
      'segmentsSent x the price per segment of the sender type and destination country (ANALYTICS_SMS_PRICES), in `currency`.',
    ),
  inbound: count('Inbound messages received on the pool numbers.'),
  replies: count('Inbound messages that answer an outbound message (keywords included).'),
  answered: count(
    'Messages that got a reply other than STOP/START/HELP within the response window of their hand-over; counted in the hour the message was sent.',
  ),
  optOuts: count(
    'Opt-outs: STOP-type keywords (attributed to the campaign of the message they answer) and opt-outs recorded through the API or by the carrier.',
  ),
  optIns: count('Opt-ins: START-type keywords and opt-outs removed through the API or by the carrier.'),
  helpRequests: count('HELP-type keywords received.'),
  deliveryRate: share('delivered / (delivered + failed + expired + unknown).'),
  responseRate: share('answered / delivered, at most 1.'),
  optOutRate: share('optOuts / delivered.'),
  ...linkFigures,
  latencyCount: count('Delivered messages with a measured latency (hand-over to the carrier time of the delivery report).'),
  latencyP50Ms: z
    .number()
    .int()
    .min(0)
    .nullable()
    .describe('Median delivery latency in ms, read from the histogram (linear within a bucket); null without deliveries.'),
  latencyP95Ms: z.number().int().min(0).nullable().describe('95th percentile delivery latency in ms, read the same way.'),
  latencyHistogram: z
    .array(z.number().int().min(0))
    .describe(
      'Delivered messages per latency bucket: one count per bound of latencyBoundsMs (up to and including it), then one for anything slower.',
    ),
  failedByCode: z
    .record(z.string(), z.number().int().min(0))
    .describe(
      'Failed messages by code: ACS delivery codes ("4005"), per-recipient HTTP statuses ("400"), or the pipeline\'s own ("max-attempts", "acs-400"); "none" when there was no code.',
    ),
});

export const analyticsGroup = analyticsFigures.extend({
  key: z
    .string()
    .nullable()
    .describe(
      'The group: a day "2026-11-25", an hour "2026-11-25T10:00:00Z", a tag (null: messages without a tag), a sender, or a template ' +
        '("appointment-reminder", or "appointment-reminder@3" by version; null: messages not rendered from a template).',
    ),
});

export const analyticsResponse = z.object({
  from: z.string().describe('Start of the range actually used (UTC, inclusive).'),
  to: z.string().describe('End of the range actually used (UTC, exclusive).'),
  groupBy: z.enum(GROUP_BY),
  tag: z.string().nullable(),
  sender: z.string().nullable(),
  template: z.string().nullable(),
  app: z.string().nullable().describe('The app the figures are of; null: every app.'),
  currency: z.string().describe('Currency of estimatedCost.'),
  responseWindowHours: z.number().int().describe('The window of "answered" (ANALYTICS_RESPONSE_WINDOW_HOURS).'),
  latencyBoundsMs: z.array(z.number().int()).describe('Upper bounds of the latency histogram buckets, in ms.'),
  totals: analyticsFigures.describe('The whole range.'),
  groups: z
    .array(analyticsGroup)
    .describe(
      'By day or hour: every day/hour of the range, in order, zeros included. By tag or sender: those with any figure, sorted.',
    ),
});

export type AnalyticsResponse = z.infer<typeof analyticsResponse>;

export function analyticsBody(
  query: ReportQuery,
  report: Report,
  settings: { currency: string; responseWindowMs: number },
): AnalyticsResponse {
  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    groupBy: query.groupBy,
    tag: query.tag ?? null,
    sender: query.sender ?? null,
    template: query.template ?? null,
    app: query.app ?? null,
    currency: settings.currency,
    responseWindowHours: Math.round(settings.responseWindowMs / HOUR_MS),
    latencyBoundsMs: [...LATENCY_BOUNDS_MS],
    totals: report.totals,
    groups: report.groups,
  };
}

/** Columns of the CSV, after `key`: every scalar figure. */
const SCALAR_COLUMNS = Object.keys(analyticsFigures.shape).filter(
  (k) => k !== 'latencyHistogram' && k !== 'failedByCode',
) as Array<Exclude<keyof Figures, 'latencyHistogram' | 'failedByCode'>>;

/**
 * The groups as CSV (RFC 4180, CRLF): `key`, the scalar figures, one `failed_<code>` column per code
 * that occurs, and one `latency_le_<ms>` column per histogram bucket (`latency_gt_<ms>` for the last).
 */
export function analyticsCsv(body: AnalyticsResponse): string {
  const codes = [...new Set(body.groups.flatMap((g) => Object.keys(g.failedByCode)))].sort();
  const bounds = body.latencyBoundsMs;
  const header = [
    body.groupBy,
    ...SCALAR_COLUMNS,
    ...codes.map((c) => `failed_${c}`),
    ...bounds.map((b) => `latency_le_${b}`),
    `latency_gt_${bounds.at(-1)}`,
  ];
  return toCsv(
    body.groups.map((g) => [
      g.key ?? '',
      ...SCALAR_COLUMNS.map((c) => g[c]),
      ...codes.map((c) => g.failedByCode[c] ?? 0),
      ...g.latencyHistogram,
    ]),
    header,
  );
}

export const analyticsRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/analytics',
    operationId: 'getAnalytics',
    summary: 'Counts, rates, delivery latency and estimated cost, per day, hour, tag, sender or template',
    description:
      'Figures of every message, reply and opt-out in a UTC range, totalled and grouped. Each event is counted exactly once, in the ' +
      'hour of its own time. JSON by default; CSV (one row per group) with `Accept: text/csv` or `format=csv`. See docs/analytics.md.',
    tags: ['analytics'],
    auth: 'function',
    query: analyticsQuery,
    responses: {
      '200': {
        description: 'The figures.',
        schema: analyticsResponse,
        alternatives: {
          'text/csv': { schema: { type: 'string', description: 'The groups as RFC 4180 CSV with a header row.' } },
        },
      },
    },
  },
  {
    method: 'get',
    path: '/api/dashboard',
    operationId: 'dashboard',
    summary: 'The analytics dashboard: one HTML page with charts',
    description:
      'Open it in a browser with the function key as ?code=; the page calls GET /api/analytics with the same key. Self-contained: ' +
      'the chart library is bundled into the page, nothing is loaded from elsewhere.',
    tags: ['analytics'],
    auth: 'function',
    responses: { '200': { description: 'The page.', contentType: 'text/html', schema: z.string() } },
  },
];
