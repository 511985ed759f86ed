// The tracked-link figures of GET /api/analytics (docs/links.md), spread into its figures schema
// (analytics.ts) — and so into its CSV columns.
import { z } from 'zod';

const count = (description: string) => z.number().int().min(0).describe(description);

export const linkFigures = {
  clicks: count(
    'Clicks on tracked short links by people (every click; link-preview fetchers and bots are linkPreviews); counted in the hour the message was sent.',
  ),
  uniqueClicks: count('Messages whose tracked links a person clicked (each message once: sms.message.clicked).'),
  linkPreviews: count(
    'Visits of tracked short links by link-preview fetchers, bots and scanners (by user agent), and HEAD requests.',
  ),
  clickThroughRate: z.number().min(0).max(1).nullable().describe('uniqueClicks / delivered, at most 1; null without deliveries.'),
  timeToFirstClickSeconds: z
    .number()
    .int()
    .min(0)
    .nullable()
    .describe(
      "Mean seconds from a message's send (its scheduled time, else its acceptance) to its first click; null without clicks.",
    ),
};
