// The bodies of POST /api/messages (and of its preview), in three forms: one text to one or many
// numbers; a text of its own per message; a template rendered per recipient. The body's keys say
// which form it is (`messages`, `template`, else `to` + `message`) and it is validated as that
// form, so every error names a field of the form the app meant. The union of the three is what the
// OpenAPI document shows.
import { z } from 'zod';
import { MESSAGE_CATEGORIES } from '../domain/category.js';
import { MAX_SCHEDULE_AHEAD_MS, REFERENCE_PATTERN } from '../domain/message.js';
import { LOCALE_PATTERN, MAX_VARIABLES, TEMPLATE_NAME_PATTERN } from '../domain/template.js';
import { metadataSchema, tagSchema } from './common.js';

/** Messages one request may carry; the pipeline splits them into ACS requests of at most 100. */
export const MAX_RECIPIENTS = 1000;
export const MAX_MESSAGE_LENGTH = 2048;

const scheduledAt = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-12-01T09:00:00Z' })
  .describe('Send no earlier than this (up to 35 days ahead).');

export const referenceSchema = z
  .string()
  .regex(REFERENCE_PATTERN, 'must be 1-128 printable ASCII characters without spaces')
  .describe(
    'Your own id of the message (an order or appointment id …): echoed in every status event, and GET /api/messages?reference= finds it.',
  );

const text = z.string().min(1, 'must not be empty').max(MAX_MESSAGE_LENGTH, `must be at most ${MAX_MESSAGE_LENGTH} characters`);

/** What every form may set, for all its messages. */
const options = {
  from: z
    .string()
    .min(1)
    .max(20)
    .optional()
    .describe('A sender of the configured pool. Without it, each recipient always gets the same number of the pool.'),
  tag: tagSchema.optional(),
  metadata: metadataSchema.optional(),
  deliveryReport: z.boolean().default(true).describe('Ask ACS for a delivery report (default true).'),
  scheduledAt: scheduledAt.optional(),
  validFor: z
    .number()
    .int('must be a whole number of seconds')
    .min(5, 'must be at least 5 seconds')
    .max(MAX_SCHEDULE_AHEAD_MS / 1000, 'must be at most 35 days in seconds')
    .optional()
    .describe(
      'Seconds after scheduledAt (or now) by which the message must be handed to ACS, or it ends "expired" and is never sent.',
    ),
  smartEncoding: z
    .boolean()
    .default(true)
    .describe('Replace typographic characters with GSM-7 equivalents when that keeps the message in GSM-7 (default true).'),
  partial: z
    .boolean()
    .default(false)
    .describe('Accept the valid messages and report the invalid ones instead of refusing the whole request.'),
  reference: referenceSchema.optional(),
  trackLinks: z
    .boolean()
    .optional()
    .describe(
      'Replace every http(s) URL of the texts with a short link of its own per message (https://<LINK_DOMAIN>/<code>), to count clicks. Without it, the LINK_TRACKING setting decides (by template, tag, default).',
    ),
  category: z
    .enum(MESSAGE_CATEGORIES)
    .optional()
    .describe(
      "The messages' category, which decides their send rules (quiet hours, frequency caps; docs/sending.md): transactional, marketing or otp. Without it: the template's, else the tag's (SMS_CATEGORY_BY_TAG), else transactional.",
    ),
};

const list = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1, 'must list at least one message').max(MAX_RECIPIENTS, `must list at most ${MAX_RECIPIENTS} messages`);

export const sendTextBody = z
  .object({
    to: z
      .union([
        z.string().describe('One recipient.'),
        z
          .array(z.string())
          .min(1, 'must list at least one recipient')
          .max(MAX_RECIPIENTS, `must list at most ${MAX_RECIPIENTS} recipients`),
      ])
      .describe(
        'E.164 number(s), e.g. "+14255550123". Spaces, dashes, parentheses and a missing "+" are tolerated; duplicates are sent once.',
      ),
    message: text.describe('The text. GSM-7 or UCS-2 is chosen automatically; see `segments` in the response.'),
    ...options,
  })
  .strict()
  .describe('One text to one or many numbers.');

export const sendMessagesBody = z
  .object({
    messages: list(
      z
        .object({
          to: z.string().describe('E.164 number; one message per number per request.'),
          text: text.describe("This message's text."),
          metadata: metadataSchema.optional().describe("Laid over the request's metadata for this message."),
          scheduledAt: scheduledAt.optional().describe("This message's own time (otherwise the request's)."),
          reference: referenceSchema.optional(),
        })
        .strict(),
    ).describe('Up to 1,000 messages, each with its own text. Messages with the same text share ACS requests.'),
    ...options,
  })
  .strict()
  .describe('A text of its own per message (personalised bulk).');

export const sendTemplateBody = z
  .object({
    template: z
      .string()
      .regex(TEMPLATE_NAME_PATTERN, 'must be a template name')
      .describe('The template (PUT /api/templates/{name}); its current version renders the texts.'),
    locale: z
      .string()
      .regex(LOCALE_PATTERN, 'must be a language tag such as "de" or "pt-BR"')
      .optional()
      .describe('Which variant: the exact tag, else the same language, else the default text.'),
    to: list(
      z
        .object({
          to: z.string().describe('E.164 number; one message per number per request.'),
          variables: z
            .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
            .refine((v) => Object.keys(v).length <= MAX_VARIABLES, `must have at most ${MAX_VARIABLES} variables`)
            .default({})
            .describe(
              'A value for every variable of the template, and no other: at most 256 characters each, control characters removed.',
            ),
          metadata: metadataSchema.optional().describe("Laid over the request's metadata for this message."),
          reference: referenceSchema.optional(),
        })
        .strict(),
    ).describe('Up to 1,000 recipients, each with the variables of its text.'),
    ...options,
  })
  .strict()
  .describe('A template, rendered per recipient.');

/** The body as the OpenAPI document shows it (one of the three forms), and its validated type. */
export const submitMessagesBody = z.union([sendTextBody, sendMessagesBody, sendTemplateBody]);

export type SubmitMessagesBody = z.output<typeof submitMessagesBody>;

/** Which form a body is, by its keys. */
function formSchema(value: unknown) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('messages' in value) return sendMessagesBody;
    if ('template' in value) return sendTemplateBody;
  }
  return sendTextBody;
}

/** What validates a body: the form its keys name, so errors speak of that form's fields. */
export const submitMessagesRequest = z.unknown().transform((value, ctx): SubmitMessagesBody => {
  const parsed = formSchema(value).safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  return z.NEVER;
});
