// Schemas of the opt-out, consent, conversation and erasure routes. They validate what the
// handlers read and they are the source of those routes in the OpenAPI document.
import { z } from 'zod';

/** Query values arrive as strings; "+" in a query string often arrives as a space. */
const senderParam = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(20, 'must be at most 20 characters')
  .transform((v) => (/^\+?\d{8,15}$/.test(v) ? `+${v.replace(/^\+/, '')}` : v));

const pageLimit = (max: number, fallback: number) =>
  z.coerce
    .number({ message: `must be a whole number from 1 to ${max}` })
    .int(`must be a whole number from 1 to ${max}`)
    .min(1, `must be a whole number from 1 to ${max}`)
    .max(max, `must be a whole number from 1 to ${max}`)
    .default(fallback)
    .describe(`Items per page, 1-${max} (default ${fallback}).`);

const continuationToken = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .describe('The continuationToken of the previous page; absent for the first page.');

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

export const pageQuery = z.object({ limit: pageLimit(1000, 100), continuationToken });

export const conversationQuery = z.object({
  from: senderParam.optional().describe('Our number of the thread; may be left out when the pool has one number.'),
  limit: pageLimit(200, 50),
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

export const consentLogEntry = z.object({
  id: z.string().describe('Unique per change; for keywords derived from the inbound message id.'),
  action: z.enum(['optOut', 'optIn']),
  sender: z.string().describe('Our number, or "*" for the whole pool.'),
  recipient: z.string(),
  source: consentSource,
  keyword: z.string().optional(),
  reason: z.string().optional(),
  inboundMessageId: z.string().optional(),
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

export const optOutEntry = z.object({
  sender: z.string().describe('Our number, or "*" for the whole pool.'),
  recipient: z.string(),
  source: consentSource,
  keyword: z.string().optional(),
  reason: z.string().optional(),
  inboundMessageId: z.string().optional(),
  at: z.string(),
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

export const conversationResponse = z.object({
  phone: z.string().describe('Their number.'),
  from: z.string().describe('Our number.'),
  messages: z
    .array(
      z.object({
        direction: z.enum(['inbound', 'outbound']),
        at: z.string().describe('Outbound: when it was handed to ACS. Inbound: when ACS received it.'),
        body: z.string(),
        messageId: z.string().optional().describe('Outbound: GET /api/messages/{id} for its status.'),
        batchId: z.string().optional(),
        tag: z.string().optional(),
        inboundMessageId: z.string().optional().describe("Inbound: ACS's id of the text."),
        keyword: z.enum(['optOut', 'optIn', 'help']).nullable().optional().describe('Inbound: the keyword class, or null.'),
        inReplyTo: z
          .object({ messageId: z.string(), batchId: z.string(), tag: z.string().optional(), sentAt: z.string() })
          .optional()
          .describe('Inbound: the last message we sent the person from this number before it arrived.'),
      }),
    )
    .describe('Newest first.'),
  continuationToken: z.string().optional(),
});

export const erasureResponse = z.object({
  phone: z.string(),
  erasedAt: z.string(),
  erased: z.object({
    messageTexts: z.number().int().describe('Message records whose text and metadata were erased.'),
    conversationEntries: z.number().int().describe('Conversation entries deleted.'),
    canceledMessages: z.number().int().describe('Messages not yet handed to ACS, canceled.'),
  }),
  kept: z
    .array(z.object({ data: z.string(), count: z.number().int().optional(), why: z.string() }))
    .describe('What was kept, and why.'),
});

export type OptOutPutBody = z.output<typeof optOutPutBody>;
