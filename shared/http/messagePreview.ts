// POST /api/messages/preview's answer (what a submit would do, and cost) and the parts of it the
// submit's answer shares: the rejected entries and the template used.
import { z } from 'zod';
import { MESSAGE_CATEGORIES } from '../domain/category.js';
import { TEMPLATE_CATEGORIES } from '../domain/template.js';
import type { Preview } from '../pipeline/previewMessages.js';
import type { SubmitPlan } from '../pipeline/submitMessages.js';

export const rejectedEntry = z.object({
  to: z.string(),
  reason: z.string().describe('Everything wrong with the entry.'),
  field: z
    .string()
    .optional()
    .describe('The entry of the request ("messages[3]", "to[3]"); absent for a number of the one-text form.'),
  reference: z.string().optional(),
});

export const templateUsed = z
  .object({
    name: z.string(),
    version: z.number().int(),
    locale: z.string().optional().describe('The variant used; absent for the default text.'),
  })
  .describe('The template and the version of it that rendered the texts.');

export const previewRecipient = z.object({
  to: z.string().describe('The recipient, normalized to E.164.'),
  from: z.string().describe('The sender it would go out from.'),
  optedOut: z
    .boolean()
    .describe('The recipient opted out of that sender (or of every sender): it would be recorded as "suppressed", not sent.'),
  status: z
    .enum(['queued', 'scheduled', 'suppressed', 'expired'])
    .describe('The status the message would start in ("expired": quiet hours would hold it past its validity).'),
  reason: z.string().optional().describe("Why it would start scheduled or expired: the recipient's quiet hours."),
  reference: z.string().optional(),
  text: z.string().optional().describe("This message's text as it would be sent (messages and template requests)."),
  textChanged: z.boolean().optional(),
  encoding: z.enum(['GSM-7', 'UCS-2']).optional(),
  segments: z.number().int().optional(),
  scheduledAt: z.string().optional(),
});

export const previewResponse = z.object({
  text: z.string().optional().describe('One-text requests: the text as it would be sent, after smart encoding.'),
  textChanged: z.boolean().optional().describe('Smart encoding replaced characters to keep the message in GSM-7.'),
  encoding: z.enum(['GSM-7', 'UCS-2']).optional(),
  segments: z.number().int().optional().describe('Segments per message (one-text requests).'),
  template: templateUsed.extend({ category: z.enum(TEMPLATE_CATEGORIES) }).optional(),
  category: z
    .enum(MESSAGE_CATEGORIES)
    .describe("The messages' category: the request's, the template's, the tag's, or transactional."),
  recipients: z
    .array(previewRecipient)
    .describe(
      'One entry per accepted message, in request order; with its own text, encoding and segments unless the request has one text.',
    ),
  rejected: z.array(rejectedEntry).describe('Invalid entries (they make a real submit fail unless partial is true).'),
  scheduledAt: z.string().optional(),
  expiresAt: z.string().optional(),
  totals: z.object({
    recipients: z.number().int(),
    sendable: z.number().int().describe('Recipients that would be sent to (not opted out).'),
    suppressed: z.number().int(),
    rejected: z.number().int(),
    segments: z
      .number()
      .int()
      .describe("Segments that would be sent in all (the sendable messages' segments summed): what is billed."),
    distinctTexts: z.number().int().describe('Different texts among the sendable messages.'),
    estimatedCost: z
      .number()
      .describe(
        "segments x the price per segment of the sender's number type and the recipient's country (ANALYTICS_SMS_PRICES).",
      ),
    currency: z.string(),
  }),
});

export type PreviewResponse = z.infer<typeof previewResponse>;

/** How a response names the template of its texts. */
export function templateOf(plan: SubmitPlan) {
  const t = plan.template;
  return t ? { template: { name: t.name, version: t.version, ...(t.locale ? { locale: t.locale } : {}) } } : {};
}

/** The answer to a dry run: what a submit would do, and cost. */
export function previewView(preview: Preview): PreviewResponse {
  const { plan } = preview;
  const one = plan.text !== undefined;
  const recipients = plan.recipients.map((r) => ({
    to: r.to,
    from: r.from.number,
    optedOut: r.optedOut,
    status: r.optedOut
      ? ('suppressed' as const)
      : r.expired
        ? ('expired' as const)
        : r.scheduledAt
          ? ('scheduled' as const)
          : ('queued' as const),
    ...(r.quietHours && !r.optedOut ? { reason: r.quietHours } : {}),
    ...(r.reference ? { reference: r.reference } : {}),
    ...(one ? {} : { text: r.text, textChanged: r.textChanged, encoding: r.encoding, segments: r.segments }),
    ...(r.scheduledAt && r.scheduledAt.getTime() !== plan.scheduledAt?.getTime()
      ? { scheduledAt: r.scheduledAt.toISOString() }
      : {}),
  }));
  const sendable = recipients.filter((r) => r.status !== 'suppressed' && r.status !== 'expired').length;
  return {
    ...(one
      ? {
          text: plan.text!,
          textChanged: plan.recipients.some((r) => r.textChanged),
          encoding: plan.encoding!,
          segments: plan.segments!,
        }
      : {}),
    ...(plan.template ? { template: { ...templateOf(plan).template!, category: plan.template.category } } : {}),
    category: plan.category,
    recipients,
    rejected: plan.rejected,
    ...(plan.scheduledAt ? { scheduledAt: plan.scheduledAt.toISOString() } : {}),
    ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
    totals: {
      recipients: recipients.length,
      sendable,
      suppressed: recipients.length - sendable,
      rejected: plan.rejected.length,
      segments: preview.segments,
      distinctTexts: preview.distinctTexts,
      estimatedCost: preview.estimatedCost,
      currency: preview.currency,
    },
  };
}
