// The per-app settings (SMS_APPS, docs/security.md "Apps"), part of settingsSchema (settings.ts)
// like every other setting; kept apart so settings.ts stays readable. appsOf turns them into the
// domain's directory, and appProblems cross-checks them against the pool.
import { z } from 'zod';
import { APP_ID_PATTERN, appPoolProblems, type AppDirectory, type AppPolicy } from './domain/apps.js';
import type { BudgetSettings } from './domain/budget.js';
import { MESSAGE_CATEGORIES } from './domain/category.js';
import { PIPELINE_EVENT_TYPES } from './domain/events.js';
import { parseWebhookSecrets } from './domain/webhookSignature.js';
import { isLoopbackUrl } from './lib/urls.js';
import { jsonOf } from './settingsJson.js';

const APPS_EXAMPLE =
  '{"<client id>":{"name":"Booking","senders":["+18005550100"],"tag":"booking","budgets":{"daily":{"messages":1000}},"webhook":{"url":"https://booking.example.com/sms","secret":"whsec_..."}}}';

const limits = z.strictObject({
  messages: z.number().int('must be a whole number of messages').positive('must be more than 0').max(1e9).optional(),
  cost: z.number().positive('must be more than 0').max(1e7).optional(),
});

const webhook = z.strictObject({
  url: z.string().superRefine((text, ctx) => {
    if (!URL.canParse(text)) return void ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    const url = new URL(text);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(url)))
      ctx.addIssue({ code: 'custom', message: `"${url.origin}" must use https (plain http only for localhost / 127.0.0.1)` });
  }),
  /** Standard Webhooks secret, as STATUS_WEBHOOK_SECRET: whsec_<base64>, or two separated by a space while rotating. */
  secret: z.string().superRefine((s, ctx) => {
    const parsed = parseWebhookSecrets(s);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
  }),
  /** Exact event types (sms.message.delivered …); all of the app's when absent. */
  eventTypes: z
    .array(
      z
        .string()
        .refine((t) => (PIPELINE_EVENT_TYPES as readonly string[]).includes(t), 'is not an event type (sms.message.delivered …)'),
    )
    .min(1)
    .optional(),
});

const app = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  senders: z
    .array(z.string().min(1))
    .min(1, 'must list at least one number (leave it out for the numbers no app owns)')
    .refine((list) => new Set(list).size === list.length, 'lists a number twice')
    .optional(),
  tag: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'tags are 1-64 letters, digits, _ . : -')
    .optional(),
  category: z.enum(MESSAGE_CATEGORIES, { message: `must be one of ${MESSAGE_CATEGORIES.join(', ')}` }).optional(),
  /** Daily and monthly limits of this app's traffic, in messages and estimated cost (USD), beside SMS_BUDGETS. */
  budgets: z.strictObject({ daily: limits.optional(), monthly: limits.optional() }).optional(),
  webhook: webhook.optional(),
});

export const appSettings = {
  /** The apps that call the pipeline, by app id (the caller's Entra client id: azp, or appid in v1.0 tokens), each with its own pool, defaults, budgets and webhook. */
  SMS_APPS: jsonOf(
    z.record(z.string(), app).superRefine((apps, ctx) => {
      for (const id of Object.keys(apps))
        if (!APP_ID_PATTERN.test(id))
          ctx.addIssue({
            code: 'custom',
            path: [id],
            message: 'app ids are 1-64 letters, digits, _ . - (an Entra client id)',
          });
    }),
    APPS_EXAMPLE,
  ).optional(),
};

type AppSettings = z.output<ReturnType<typeof z.object<typeof appSettings>>>;

/** The domain's app directory from the settings. */
export function appsOf(s: AppSettings): AppDirectory {
  const apps = new Map<string, AppPolicy>();
  for (const [id, a] of Object.entries(s.SMS_APPS ?? {})) {
    apps.set(id, {
      id,
      name: a.name,
      ...(a.senders ? { senders: a.senders } : {}),
      ...(a.tag ? { tag: a.tag } : {}),
      ...(a.category ? { category: a.category } : {}),
      ...(a.webhook ? { webhook: a.webhook } : {}),
    });
  }
  return apps;
}

/** Each app's budget limits, as SMS_BUDGETS writes them (budget.ts makes them rules scoped to the app). */
export function appBudgetsOf(s: AppSettings): Record<string, Pick<BudgetSettings, 'daily' | 'monthly'>> {
  const out: Record<string, Pick<BudgetSettings, 'daily' | 'monthly'>> = {};
  for (const [id, a] of Object.entries(s.SMS_APPS ?? {})) if (a.budgets) out[id] = a.budgets;
  return out;
}

/** SMS_APPS against the rest of the configuration: its numbers in the pool, each claimed once; budgets not empty. */
export function appProblems(s: AppSettings, pool: readonly string[]): string[] {
  const problems = appPoolProblems(appsOf(s).values(), pool);
  for (const [id, a] of Object.entries(s.SMS_APPS ?? {}))
    if (a.budgets && !a.budgets.daily && !a.budgets.monthly)
      problems.push(`SMS_APPS [${id}.budgets] has neither a daily nor a monthly limit`);
  return problems;
}
