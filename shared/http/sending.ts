// The fraud and spend guard's resources: the pause switch and the state of sending (GET/PUT
// /api/sending), fraud holds (GET /api/holds, GET /api/holds/{id}, POST /api/holds/{id}/release) and
// conversions (POST /api/messages/{id}/conversion); and the problems a submit gets from the guard:
// 403 destination-not-permitted (geo permissions) and 429 budget-exceeded. Contracts, views, routes.
import { z } from 'zod';
import { PRICE_CURRENCY } from '../domain/pricing.js';
import type { Hold } from '../domain/sendingControls.js';
import type { BudgetExceeded } from '../pipeline/guard/submitGuard.js';
import type { GeoRefusal } from '../pipeline/guard/geoPermissions.js';
import type { SendingState } from '../pipeline/guard/sending.js';
import { tagSchema } from './common.js';
import { problem, type HttpResult } from './problem.js';
import type { ApiRoute } from './route.js';

// ---- Problems of a submit ----

/** 403: recipients in countries the geo permissions do not allow; `errors` names each by its field. */
export function destinationProblem(refusals: readonly GeoRefusal[]): HttpResult {
  const countries = [...new Set(refusals.map((r) => r.country ?? 'an unknown country'))].join(', ');
  return problem(
    'destinationNotPermitted',
    `Sending to ${countries} is not permitted by the geo permissions (SMS_ALLOWED_COUNTRIES): ${refusals[0]!.field} ${refusals[0]!.message}` +
      `${refusals.length > 1 ? ` (and ${refusals.length - 1} more)` : ''}. Nothing was sent; with "partial": true the other recipients are accepted.`,
    {
      errors: refusals.map((r) => ({ field: r.field, message: r.message })),
      rule: 'geo',
      countries: [...new Set(refusals.map((r) => r.country ?? 'XX'))],
    },
  );
}

const money = (micros: number) => Math.round(micros) / 1_000_000;

/** 429 with Retry-After until the period ends: a budget is reached. */
export function budgetProblem(exceeded: BudgetExceeded, now: Date): HttpResult {
  const { binding, retryAt } = exceeded;
  const cost = binding.metric === 'cost';
  const amount = (n: number) => (cost ? `${money(n)} ${PRICE_CURRENCY}` : `${n} messages`);
  const ruleScope = binding.rule.scope;
  const app = ruleScope.startsWith('@') ? ruleScope.slice(1) : undefined;
  const scope = ruleScope === '*' ? 'the pool' : app !== undefined ? `app "${app}"` : `tag "${ruleScope}"`;
  const period = binding.rule.period === 'day' ? 'daily' : 'monthly';
  return problem(
    'budgetExceeded',
    `The ${period} ${binding.metric === 'cost' ? 'cost' : 'message'} budget of ${scope} is reached: ${amount(binding.spent)} of ${amount(binding.limit)} spent, ` +
      `and this request needs ${amount(binding.requested)}. Nothing was sent. It frees up at ${retryAt.toISOString()}.`,
    {
      headers: { 'retry-after': String(Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000))) },
      budget: {
        scope: ruleScope === '*' ? 'pool' : app !== undefined ? 'app' : 'tag',
        ...(ruleScope === '*' || app !== undefined ? {} : { tag: ruleScope }),
        ...(app !== undefined ? { app } : {}),
        period: binding.rule.period,
        metric: binding.metric,
        limit: cost ? money(binding.limit) : binding.limit,
        spent: cost ? money(binding.spent) : binding.spent,
        requested: cost ? money(binding.requested) : binding.requested,
        ...(cost ? { currency: PRICE_CURRENCY } : {}),
        resetsAt: retryAt.toISOString(),
      },
    },
  );
}

// ---- GET/PUT /api/sending ----

export const sendingPutBody = z
  .strictObject({
    paused: z.boolean().describe('true stops hand-overs to ACS (messages wait on the queue); false sends every waiting message.'),
    sender: z
      .string()
      .min(1)
      .max(20)
      .optional()
      .describe('Only this sender of the pool. Without sender and tag: the whole pool.'),
    tag: tagSchema.optional().describe('Only messages with this tag.'),
    reason: z.string().trim().min(1).max(500).optional().describe('Why, in words: shown with the pause and in its event.'),
  })
  .refine((b) => b.sender === undefined || b.tag === undefined, { message: 'give sender or tag, not both', path: ['tag'] })
  .describe('Pause or resume hand-overs: of the whole pool, one sender, or one tag.');

const pauseView = z.object({
  scope: z.enum(['pool', 'sender', 'tag']),
  sender: z.string().optional(),
  tag: z.string().optional(),
  since: z.string().describe('When it was paused.'),
  reason: z.string().optional(),
});

const spend = z.object({ limit: z.number(), spent: z.number(), remaining: z.number() });

export const sendingResponse = z.object({
  state: z.enum(['active', 'partlyPaused', 'paused']).describe('paused: the whole pool; partlyPaused: a sender or a tag.'),
  pauses: z.array(pauseView),
  budgets: z
    .array(
      z.object({
        scope: z.enum(['pool', 'tag', 'app']),
        tag: z.string().optional(),
        app: z.string().optional().describe('The app of an app budget (SMS_APPS).'),
        period: z.enum(['day', 'month']).describe('UTC day or month.'),
        periodStart: z.string(),
        periodEnd: z.string().describe('When the budget frees up.'),
        messages: spend.optional().describe('Messages accepted in the period.'),
        cost: spend
          .extend({ currency: z.string() })
          .optional()
          .describe('Estimated cost of the messages accepted in the period.'),
      }),
    )
    .describe('Each budget of SMS_BUDGETS: spent against its limit in the current period.'),
  whenBudgetReached: z.enum(['refuse', 'queue']),
  activeHolds: z.number().int().describe('Fraud holds in force (GET /api/holds).'),
  allowedCountries: z
    .union([z.array(z.string()), z.literal('*')])
    .describe('Geo permissions: the destination countries allowed.'),
});

export type SendingResponse = z.infer<typeof sendingResponse>;

export function sendingView(state: SendingState): SendingResponse {
  const pool = state.pauses.some((p) => p.scope.kind === 'pool');
  return {
    state: pool ? 'paused' : state.pauses.length > 0 ? 'partlyPaused' : 'active',
    pauses: state.pauses.map((p) => ({
      scope: p.scope.kind,
      ...(p.scope.kind === 'sender' ? { sender: p.scope.sender } : {}),
      ...(p.scope.kind === 'tag' ? { tag: p.scope.tag } : {}),
      since: p.since,
      ...(p.reason ? { reason: p.reason } : {}),
    })),
    budgets: state.budgets.map((b) => ({
      scope: b.scope === '*' ? ('pool' as const) : b.scope.startsWith('@') ? ('app' as const) : ('tag' as const),
      ...(b.scope === '*' ? {} : b.scope.startsWith('@') ? { app: b.scope.slice(1) } : { tag: b.scope }),
      period: b.period,
      periodStart: b.periodStart,
      periodEnd: b.periodEnd,
      ...(b.messages ? { messages: { ...b.messages, remaining: Math.max(0, b.messages.limit - b.messages.spent) } } : {}),
      ...(b.costMicros
        ? {
            cost: {
              limit: money(b.costMicros.limit),
              spent: money(b.costMicros.spent),
              remaining: money(Math.max(0, b.costMicros.limit - b.costMicros.spent)),
              currency: PRICE_CURRENCY,
            },
          }
        : {}),
    })),
    whenBudgetReached: state.whenBudgetReached,
    activeHolds: state.activeHolds,
    allowedCountries: state.allowedCountries,
  };
}

// ---- Holds ----

export const holdView = z.object({
  id: z.string().describe('"GB-44770090": the numbers starting +44770090; "GB": the OTP traffic to GB.'),
  country: z.string(),
  prefix: z.string().optional().describe('The numbers held: those starting with it.'),
  tags: z.array(z.string()).optional().describe("Only messages with these tags are held (a country's OTP traffic)."),
  rule: z
    .enum(['burst', 'conversions'])
    .describe('burst: too many messages to one range at once; conversions: OTPs nobody uses.'),
  reason: z.literal('fraudSuspected'),
  detail: z.string().describe('What was seen, in words.'),
  state: z.enum(['active', 'released']),
  placedAt: z.string(),
  releasedAt: z.string().optional(),
  releaseNote: z.string().optional(),
  heldMessages: z.enum(['send', 'cancel']).optional().describe('On release: whether the held messages were sent on or canceled.'),
  exemptUntil: z.string().optional().describe('No new hold on the same range before then.'),
});

export function toHoldView(hold: Hold): z.infer<typeof holdView> {
  const { etag: _etag, ...view } = hold;
  return view;
}

export const holdsQuery = z.object({
  state: z
    .enum(['active', 'released', 'all'])
    .default('active')
    .describe('Which holds: active ones (default), released ones, or all.'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('At most this many, newest first (1-1000, default 100).'),
});

export const holdListResponse = z.object({ holds: z.array(holdView) });

export const releaseHoldBody = z
  .strictObject({
    messages: z
      .enum(['send', 'cancel'])
      .default('send')
      .describe(
        'The held messages: sent on at their next look (default, within SMS_PUMPING_PROTECTION heldRecheckSeconds, 30 by default) or canceled.',
      ),
    note: z.string().trim().min(1).max(500).optional().describe('Who released it and why: kept with the hold.'),
  })
  .describe('Release a hold.');

// ---- Conversions ----

export const conversionResponse = z.object({
  messageId: z.string(),
  convertedAt: z.string(),
  counted: z
    .boolean()
    .describe('It feeds pumping detection: an OTP message (SMS_PUMPING_PROTECTION otpTags), reported for the first time.'),
});

// ---- Routes ----

export const sendingRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/sending',
    operationId: 'getSending',
    summary: 'Whether sending is paused, the budgets spent, the fraud holds standing',
    tags: ['sending'],
    auth: 'function',
    responses: { '200': { description: 'The state of sending.', schema: sendingResponse } },
  },
  {
    method: 'put',
    path: '/api/sending',
    operationId: 'setSending',
    summary: 'Pause or resume hand-overs (the pool, a sender or a tag)',
    description:
      'Paused messages wait on the queue: nothing is lost, and their validity still runs (an ended one becomes "expired" and is reported). ' +
      'Every instance stops hand-overs within one pacing slot. Resuming sends every waiting message once, within about 10 seconds.',
    tags: ['sending'],
    auth: 'function',
    requestBody: { schema: sendingPutBody },
    responses: { '200': { description: 'The state of sending after the change.', schema: sendingResponse } },
    problems: [413, 415],
  },
  {
    method: 'get',
    path: '/api/holds',
    operationId: 'listHolds',
    summary: "Fraud holds: sends to a number range (or a country's OTP traffic) held as suspected SMS pumping",
    tags: ['sending'],
    auth: 'function',
    query: holdsQuery,
    responses: { '200': { description: 'The holds, newest first.', schema: holdListResponse } },
  },
  {
    method: 'get',
    path: '/api/holds/{id}',
    operationId: 'getHold',
    summary: 'One fraud hold',
    tags: ['sending'],
    auth: 'function',
    pathParams: { id: 'The hold id, e.g. GB-44770090.' },
    responses: { '200': { description: 'The hold.', schema: holdView } },
    problems: [404],
  },
  {
    method: 'post',
    path: '/api/holds/{id}/release',
    operationId: 'releaseHold',
    summary: 'Release a fraud hold: its messages go on (or are canceled)',
    description:
      'The range is then exempt from new holds for SMS_PUMPING_PROTECTION exemptHours (default 24). Releasing a released hold answers it again.',
    tags: ['sending'],
    auth: 'function',
    pathParams: { id: 'The hold id.' },
    requestBody: { schema: releaseHoldBody },
    responses: { '200': { description: 'The hold, released.', schema: holdView } },
    problems: [404, 413, 415],
  },
  {
    method: 'post',
    path: '/api/messages/{id}/conversion',
    operationId: 'recordConversion',
    summary: 'Report a message as used (its one-time password was entered)',
    description:
      "Feeds pumping detection: where OTP messages to a country stop being used, against that country's own rate, its OTP traffic is held. " +
      'Reporting a message again changes nothing.',
    tags: ['messages'],
    auth: 'function',
    pathParams: { id: 'The message id.' },
    responses: { '200': { description: 'Recorded.', schema: conversionResponse } },
    problems: [404],
  },
];
