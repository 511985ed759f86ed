// The opt-outs resource: GET/PUT/DELETE /api/opt-outs/{phone}, GET /api/opt-outs (list and CSV
// export) and GET /api/opt-outs/{phone}/history (the consent log). Contracts, views and routes.
import { z } from 'zod';
import type { OptOutEntry } from '../domain/consent.js';
import { continuationToken, pageLimit, pageQuery, senderParam } from './common.js';
import { toCsv } from './csv.js';
import { PHONE_PARAM, type ApiRoute } from './route.js';

const consentSource = z
  .enum(['keyword', 'api', 'carrier'])
  .describe('How the change came: a keyword texted by the person, this API, or the carrier.');

export const optOutPutBody = z
  .strictObject({
    from: senderParam
      .optional()
      .describe('The number to opt the person out of: one of the pool, or "*" for every number (the default).'),
    reason: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(500, 'must be at most 500 characters')
      .describe('Why, in words: kept in the consent log.'),
  })
  .describe('Opt a person out through the API (for example, they asked by phone or e-mail).');

export const optOutDeleteQuery = z.object({
  from: senderParam
    .optional()
    .describe('Lift only this number\'s opt-out ("*" for the pool-wide one); without it, every opt-out of the person is lifted.'),
  reason: z.string().trim().min(1).max(500).optional().describe('Why, in words: kept in the consent log.'),
});

export const optOutListQuery = z.object({
  from: senderParam.optional().describe('Only the opt-outs of this number ("*": the pool-wide ones). Without it, all.'),
  limit: pageLimit(1000, 100),
  continuationToken,
});

const optOutDetails = {
  since: z.string().optional().describe('When the opt-out was recorded.'),
  source: consentSource.optional(),
  keyword: z.string().optional().describe('The keyword texted, for keyword opt-outs.'),
  reason: z.string().optional(),
  inboundMessageId: z.string().optional().describe('ACS id of the text that asked for it.'),
};

export const optOutStatusResponse = z.object({
  phone: z.string(),
  optedOutEverywhere: z.boolean().describe('Opted out of every number of the pool.'),
  pool: z.object({ optedOut: z.boolean().describe('A pool-wide opt-out ("*") is in force.'), ...optOutDetails }),
  senders: z.array(
    z.object({
      sender: z.string(),
      type: z.enum(['tollFree', 'shortCode', 'tenDlc', 'alphanumeric', 'mobile']),
      optedOut: z.boolean().describe('Messages from this number to the person end "suppressed".'),
      via: z.enum(['sender', 'pool']).optional().describe("The person's opt-out of this number, or the pool-wide one."),
      ...optOutDetails,
    }),
  ),
});

export const optOutEntry = z.object({
  sender: z.string().describe('Our number, or "*" for the whole pool.'),
  recipient: z.string(),
  source: consentSource,
  keyword: z.string().optional(),
  reason: z.string().optional(),
  inboundMessageId: z.string().optional(),
  at: z.string(),
});

export const consentLogEntry = optOutEntry.extend({
  id: z.string().describe('Unique per change; for keywords derived from the inbound message id.'),
  action: z.enum(['optOut', 'optIn']),
  at: z.string().describe('When the person asked (for keywords: when ACS received the text).'),
  applied: z.boolean().describe('False when a later change was already in force (texts can arrive out of order).'),
  note: z.string().optional(),
});

export const consentChangeResponse = optOutStatusResponse.extend({
  changes: z.array(consentLogEntry).describe('The consent log entries this request added; empty when nothing changed.'),
  acsMirror: z
    .array(z.object({ sender: z.string(), ok: z.boolean(), error: z.string().optional() }))
    .optional()
    .describe("With ACS_OPT_OUT_MIRROR on: whether ACS's own opt-out list took the change, per number."),
});

export const optOutListResponse = z.object({
  items: z.array(optOutEntry).describe('Opt-outs in force, in (sender, recipient) order.'),
  continuationToken: z.string().optional().describe('Pass it as ?continuationToken= for the next page; absent on the last page.'),
});

export const consentHistoryResponse = z.object({
  phone: z.string(),
  entries: z.array(consentLogEntry).describe('Oldest first.'),
  continuationToken: z.string().optional(),
});

export type OptOutPutBody = z.output<typeof optOutPutBody>;

const CSV_COLUMNS = ['sender', 'recipient', 'source', 'keyword', 'reason', 'inboundMessageId', 'at'] as const;

/** Opt-outs as RFC 4180 CSV (columns sender, recipient, source, keyword, reason, inboundMessageId, at). */
export function optOutsCsv(items: readonly OptOutEntry[], header = true): string {
  return toCsv(
    items.map((e) => CSV_COLUMNS.map((c) => e[c])),
    header ? CSV_COLUMNS : undefined,
  );
}

export const optOutRoutes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/opt-outs/{phone}',
    operationId: 'getOptOut',
    summary: 'Whether a person is opted out, of each number and overall',
    description:
      "One point read per number of the pool and one for the pool-wide opt-out. `via` says whether an opt-out is the person's own for that number or the pool-wide one.",
    tags: ['opt-outs'],
    auth: 'function',
    pathParams: PHONE_PARAM,
    responses: { '200': { description: "The person's consent.", schema: optOutStatusResponse } },
    problems: [400],
  },
  {
    method: 'put',
    path: '/api/opt-outs/{phone}',
    operationId: 'addOptOut',
    summary: 'Opt a person out of one number or of the whole pool',
    description:
      'Recorded with source "api" and the reason in the consent log, published as sms.optout.added, and mirrored to ACS\'s opt-out list ' +
      'when ACS_OPT_OUT_MIRROR is on. Without `from`, the opt-out covers every number ("*"). Already opted out: nothing changes (`changes` is empty).',
    tags: ['opt-outs'],
    auth: 'function',
    pathParams: PHONE_PARAM,
    requestBody: { schema: optOutPutBody },
    responses: {
      '200': { description: "The person's consent after the change, and the change.", schema: consentChangeResponse },
    },
    problems: [413, 415],
  },
  {
    method: 'delete',
    path: '/api/opt-outs/{phone}',
    operationId: 'removeOptOut',
    summary: "Lift a person's opt-out",
    description:
      'Lifts the opt-out of `from` ("*" for the pool-wide one) or, without `from`, every opt-out of the person. Each lifted opt-out is a ' +
      'consent log entry (source "api") and an sms.optout.removed event. Nothing to lift: nothing changes.',
    tags: ['opt-outs'],
    auth: 'function',
    pathParams: PHONE_PARAM,
    query: optOutDeleteQuery,
    responses: {
      '200': { description: "The person's consent after the change, and the changes.", schema: consentChangeResponse },
    },
  },
  {
    method: 'get',
    path: '/api/opt-outs',
    operationId: 'listOptOuts',
    summary: 'List or export opt-outs in force',
    description:
      'In (sender, recipient) order, a page at a time. With `Accept: text/csv` the page is CSV (columns sender, recipient, source, keyword, ' +
      "reason, inboundMessageId, at) and the next page's token is in the `X-Continuation-Token` header.",
    tags: ['opt-outs'],
    auth: 'function',
    query: optOutListQuery,
    responses: {
      '200': {
        description: 'A page of opt-outs.',
        schema: optOutListResponse,
        headers: {
          'X-Continuation-Token': {
            description: 'CSV only: the token of the next page; absent on the last.',
            schema: { type: 'string' },
          },
        },
        alternatives: { 'text/csv': { schema: { type: 'string', description: 'RFC 4180 CSV with a header row.' } } },
      },
    },
  },
  {
    method: 'get',
    path: '/api/opt-outs/{phone}/history',
    operationId: 'getConsentHistory',
    summary: 'The consent log of a number',
    description:
      'Every opt-out and opt-in of the person — by keyword, API or carrier — oldest first. Kept for ever, even through erasure.',
    tags: ['opt-outs'],
    auth: 'function',
    pathParams: PHONE_PARAM,
    query: pageQuery,
    responses: { '200': { description: 'A page of the consent log.', schema: consentHistoryResponse } },
  },
];
