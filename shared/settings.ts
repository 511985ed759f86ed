// Every setting the pipeline reads, by the name it has in app settings and local.settings.json,
// with what it must look like (zod). shared/config.ts parses them once and cross-checks them; the
// infra contract test reads this schema to check that Bicep sets what the code needs.
import { z } from 'zod';
import { PIPELINE_EVENT_TYPES } from './domain/events.js';
import { SENDER_TYPES } from './domain/sender.js';
import { parseWebhookSecrets } from './domain/webhookSignature.js';
import { isLoopbackUrl } from './lib/urls.js';
import { appSettings } from './settingsApps.js';
import { linkSettings } from './settingsLinks.js';
import { authSettings } from './settingsAuth.js';
import { sendRuleSettings } from './settingsSendRules.js';
import { jsonOf } from './settingsJson.js';
import { telemetrySettings } from './settingsTelemetry.js';

const senderSchema = z
  .object({
    number: z
      .string()
      .regex(
        /^(\+[1-9]\d{7,14}|(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11})$/,
        'must be an E.164 number such as +18005550100 or an alphanumeric sender id (1-11 letters, digits, spaces; at least one letter)',
      ),
    type: z.enum(SENDER_TYPES),
    ratePerMinute: z.number().positive().max(1_000_000).optional(),
    /** Messages that may go out at once before pacing applies; defaults to one second's worth. */
    burst: z.number().int().positive().max(100).optional(),
  })
  .strict();

const intSetting = (min: number, max: number) =>
  z.coerce
    .number({ message: `must be a whole number from ${min} to ${max}` })
    .int(`must be a whole number from ${min} to ${max}`)
    .min(min, `must be a whole number from ${min} to ${max}`)
    .max(max, `must be a whole number from ${min} to ${max}`);

const urlSetting = z.url({ message: 'must be an absolute URL such as https://example.com/path' });

const nonEmpty = z.string().trim().min(1, 'must not be empty');

function secureUrlProblem(text: string): string | undefined {
  if (!URL.canParse(text)) return `"${text.slice(0, 100)}" is not an absolute URL`;
  const url = new URL(text);
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackUrl(url)) return undefined;
  return `"${url.origin}" must use https (plain http is allowed only for localhost / 127.0.0.1)`;
}

/** "a,b*" → the known event types it names; a trailing * matches a prefix ("sms.message.*"). */
function eventTypeList(text: string, ctx: z.RefinementCtx): string[] {
  const out = new Set<string>();
  for (const entry of text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const matches = entry.endsWith('*')
      ? PIPELINE_EVENT_TYPES.filter((t) => t.startsWith(entry.slice(0, -1)))
      : PIPELINE_EVENT_TYPES.filter((t) => t === entry);
    if (matches.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry.slice(0, 60)}" names no event type (known: sms.message.<status>, sms.inbound.received, sms.optout.added, sms.optout.removed; a trailing * matches a prefix)`,
      });
    }
    for (const m of matches) out.add(m);
  }
  if (!text.split(',').some((t) => t.trim())) {
    ctx.addIssue({ code: 'custom', message: 'lists no event type; leave it unset to send every type' });
  }
  return [...out];
}
const keywordList = z
  .array(z.string().trim().min(1, 'keywords must not be empty').max(40, 'keywords must be at most 40 characters'))
  .min(1, 'must list at least one keyword')
  .max(50, 'must list at most 50 keywords');
const keywordOverrides = z.strictObject({
  stop: keywordList.optional(),
  start: keywordList.optional(),
  help: keywordList.optional(),
});

/** A reply text, or null for "no reply". */
const replyText = z
  .string()
  .trim()
  .min(1, 'must not be empty (use null for no reply)')
  .max(640, 'must be at most 640 characters')
  .nullable();
const replyOverrides = z.strictObject({ stop: replyText.optional(), start: replyText.optional(), help: replyText.optional() });

const booleanSetting = z.enum(['true', 'false'], { message: 'must be "true" or "false"' }).transform((v) => v === 'true');

const budgetLimits = z.strictObject({
  messages: z.number().int('must be a whole number of messages').positive('must be more than 0').max(1e9).optional(),
  cost: z.number().positive('must be more than 0').max(1e7).optional(),
});
const budgetPeriods = z.strictObject({ daily: budgetLimits.optional(), monthly: budgetLimits.optional() });
const budgetTag = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'tags are 1-64 letters, digits, _ . : -');

/** The raw settings, named exactly as they appear in app settings and local.settings.json. */
export const settingsSchema = z.object({
  /** Storage for tables (and the queue when the transport is "storage"): a connection string locally. */
  AzureWebJobsStorage: nonEmpty.optional(),
  /** Storage account name for identity-based access in Azure. */
  AzureWebJobsStorage__accountName: nonEmpty.optional(),
  /** Optional explicit service URIs for identity-based access (sovereign clouds, private endpoints). */
  AzureWebJobsStorage__tableServiceUri: urlSetting.optional(),
  AzureWebJobsStorage__queueServiceUri: urlSetting.optional(),
  /** Which queue carries send jobs: Service Bus in Azure, a Storage queue locally. */
  OUTBOUND_QUEUE_TRANSPORT: z
    .enum(['servicebus', 'storage'], { message: 'must be "servicebus" or "storage"' })
    .default('servicebus'),
  /** Name of the outbound queue (Service Bus queue or Storage queue). */
  OUTBOUND_QUEUE_NAME: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/, 'must be 3-63 lowercase letters, digits and single dashes')
    .default('sms-outbound'),
  /** Service Bus connection string (only where identity cannot be used). */
  ServiceBusConnection: nonEmpty.optional(),
  /** Service Bus namespace for identity-based access, e.g. sb-sms.servicebus.windows.net. */
  ServiceBusConnection__fullyQualifiedNamespace: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, 'must be a host name such as my-namespace.servicebus.windows.net')
    .optional(),
  /** ACS connection string (endpoint + access key): local emulator only. */
  ACS_CONNECTION_STRING: z
    .string()
    .regex(/^endpoint=[^;]+;accesskey=[^;]+;?$/i, 'must look like endpoint=https://...;accesskey=...')
    .optional(),
  /** ACS endpoint for identity-based access in Azure, e.g. https://acs-sms.communication.azure.com. */
  ACS_ENDPOINT: urlSetting.optional(),
  /** Client id of the user-assigned managed identity (Azure only). */
  AZURE_CLIENT_ID: nonEmpty.optional(),
  /** The sender pool, as JSON. */
  SMS_SENDERS: jsonOf(
    z.array(senderSchema).min(1, 'must list at least one sender'),
    '[{"number":"+18005550100","type":"tollFree"}]',
  ),
  /** Largest number of segments one message may have; longer texts are refused with a 400. */
  SMS_MAX_SEGMENTS: intSetting(1, 20).default(10),
  /** Attempts at handing a message to ACS before it is dead-lettered as failed. */
  SEND_MAX_ATTEMPTS: intSetting(1, 50).default(8),
  /** Milliseconds before an ACS request counts as timed out. */
  ACS_REQUEST_TIMEOUT_MS: intSetting(1000, 120_000).default(15_000),
  /**
   * A hand-over whose outcome cannot be known once ACS can no longer recognise a repeat:
   * atMostOnce (never a second text; it ends "unknown") or atLeastOnce (sent again).
   */
  SEND_UNCERTAIN_POLICY: z
    .enum(['atMostOnce', 'atLeastOnce'], { message: 'must be "atMostOnce" or "atLeastOnce"' })
    .default('atMostOnce'),
  /**
   * Seconds between runs of the recovery timer, which finishes submits and hand-overs whose process
   * stopped. It must find an interrupted hand-over while ACS can still recognise a repeat (5 minutes),
   * so at most 60; it must divide a minute.
   */
  RECOVERY_INTERVAL_SECONDS: z
    .enum(['5', '10', '15', '20', '30', '60'], {
      message: 'must be 5, 10, 15, 20, 30 or 60 (seconds that divide a minute, at most 60)',
    })
    .default('30')
    .transform(Number),
  /** Seconds after the hand-over before a message without a delivery report is looked up at ACS. */
  RECONCILE_AFTER_SECONDS: intSetting(1, 24 * 3600).default(1800),
  /** Hours after the hand-over after which a message without a final status ends "unknown". */
  DELIVERY_REPORT_DEADLINE_HOURS: intSetting(1, 24 * 30).default(72),
  /** NCRONTAB schedule of the reconciler (six fields, seconds first). */
  RECONCILE_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, 'must be a six-field NCRONTAB expression such as "0 */5 * * * *"')
    .default('0 */5 * * * *'),
  /** Storage queue that keeps the pipeline's events until they are delivered (the outbox). */
  EVENTS_QUEUE_NAME: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/, 'must be 3-63 lowercase letters, digits and single dashes')
    .default('sms-events'),
  /** CloudEvents "source" of the pipeline's events; defaults to /sms-pipeline/<app name>. */
  EVENTS_SOURCE: z.string().min(1).max(200).optional(),
  /** Set by App Service / Functions in Azure: the app's name. */
  WEBSITE_SITE_NAME: z.string().optional(),
  /** Webhook URLs (comma separated) that receive the pipeline's status events. */
  STATUS_WEBHOOK_URLS: z
    .string()
    .transform((s, ctx) => {
      const urls = s
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
      const seen = new Set<string>();
      for (const u of urls) {
        const problem = secureUrlProblem(u);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
        else if (seen.has(u)) ctx.addIssue({ code: 'custom', message: `lists ${new URL(u).origin}… twice` });
        seen.add(u);
      }
      return urls;
    })
    .default([]),
  /**
   * Secret that signs webhook deliveries (Standard Webhooks, HMAC-SHA256): "whsec_<base64 of 24-64
   * random bytes>", or raw text of at least 24 bytes; two separated by a space while rotating.
   * Required when webhooks are configured.
   */
  STATUS_WEBHOOK_SECRET: z
    .string()
    .superRefine((s, ctx) => {
      const parsed = parseWebhookSecrets(s);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
    })
    .optional(),
  /** Event types the webhooks receive (comma separated, "sms.message.*" style prefixes allowed); all when unset. */
  STATUS_WEBHOOK_EVENT_TYPES: z
    .string()
    .transform((s, ctx) => eventTypeList(s, ctx))
    .optional(),
  /** First retry delay of an event delivery that failed, in seconds; doubles per try up to an hour. */
  EVENTS_RETRY_BASE_SECONDS: intSetting(1, 3600).default(10),
  /** Event Grid topic endpoint for the pipeline's status events (Azure). */
  EVENTGRID_TOPIC_ENDPOINT: z
    .string()
    .superRefine((s, ctx) => {
      const problem = secureUrlProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** Event Grid topic access key: local or non-identity setups only. */
  EVENTGRID_TOPIC_KEY: nonEmpty.optional(),
  /** How far a STOP reaches: the number that received it (default, as carriers do) or every number of the pool. */
  OPT_OUT_SCOPE: z.enum(['sender', 'pool'], { message: 'must be "sender" or "pool"' }).default('sender'),
  /** Keyword lists replacing the defaults, pool-wide and per sender number. */
  INBOUND_KEYWORDS: jsonOf(
    keywordOverrides.extend({ senders: z.record(z.string(), keywordOverrides).optional() }),
    '{"stop":["STOP","ARRET"],"senders":{"+18005550100":{"help":["HELP","AIDE"]}}}',
  ).optional(),
  /** Reply texts to STOP, START and HELP, pool-wide, per sender type and per sender number; null sends none. */
  INBOUND_REPLIES: jsonOf(
    replyOverrides.extend({
      types: z.partialRecord(z.enum(SENDER_TYPES), replyOverrides).optional(),
      senders: z.record(z.string(), replyOverrides).optional(),
    }),
    '{"help":"Acme alerts. Reply STOP to end.","types":{"shortCode":{"stop":"Acme: unsubscribed."}},"senders":{"+18005550100":{"help":null}}}',
  ).optional(),
  /** Also add and remove every opt-out on ACS's own opt-out list (POST /sms/optouts:add|remove). */
  ACS_OPT_OUT_MIRROR: booleanSetting.default(false),
  /** Hours after its hand-over within which a reply makes a delivered message "answered" (response rate). */
  ANALYTICS_RESPONSE_WINDOW_HOURS: intSetting(1, 24 * 30).default(72),
  /** Price per segment sent, USD, by sender type and destination country ("*": any other), over the defaults. */
  ANALYTICS_SMS_PRICES: jsonOf(
    z.partialRecord(
      z.enum(SENDER_TYPES),
      z
        .record(
          z.string(),
          z.number().min(0, 'a price must be 0 or more').max(10, 'a price per segment above 10 is surely a typo'),
        )
        .superRefine((prices, ctx) => {
          for (const country of Object.keys(prices)) {
            if (!/^([A-Z]{2}|\*)$/.test(country)) {
              ctx.addIssue({
                code: 'custom',
                path: [country],
                message: `"${country}" is not a country: use ISO 3166 alpha-2 codes such as "US", or "*" for any other country`,
              });
            }
          }
        }),
    ),
    '{"tollFree":{"US":0.0075,"CA":0.0075},"alphanumeric":{"GB":0.04,"*":0.06}}',
  ).optional(),
  ...telemetrySettings,
  ...linkSettings,
  ...authSettings,
  ...sendRuleSettings,
  ...appSettings,
  /**
   * Geo permissions: the destination countries (ISO 3166-1 alpha-2, comma separated) messages may
   * go to, or "*" for any; unset: the countries the configured senders can reach.
   */
  SMS_ALLOWED_COUNTRIES: z
    .string()
    .transform((text, ctx): string[] | '*' => {
      if (text.trim() === '*') return '*';
      const codes = text
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      if (codes.length === 0)
        ctx.addIssue({
          code: 'custom',
          message: 'lists no country; leave it unset for the countries the senders reach, or "*" for any',
        });
      for (const code of codes) {
        if (!/^[A-Z]{2}$/.test(code))
          ctx.addIssue({
            code: 'custom',
            message: `"${code.slice(0, 20)}" is not a country: use ISO 3166 alpha-2 codes such as US, CA, GB (comma separated), or "*" for any`,
          });
      }
      return codes;
    })
    .optional(),
  /** Daily and monthly limits in messages and estimated cost (USD), pool-wide and per tag. */
  SMS_BUDGETS: jsonOf(
    budgetPeriods.extend({ tags: z.record(budgetTag, budgetPeriods).optional() }),
    '{"daily":{"messages":10000,"cost":75},"monthly":{"cost":1500},"tags":{"otp":{"daily":{"messages":2000}}}}',
  ).optional(),
  /** What a submit gets once a budget is reached: refuse (429 with Retry-After) or queue (scheduled for the next period). */
  SMS_BUDGET_WHEN_REACHED: z.enum(['refuse', 'queue'], { message: 'must be "refuse" or "queue"' }).default('refuse'),
  /** SMS pumping detection: bursts per number prefix and OTP conversions per country, against their own baselines. */
  SMS_PUMPING_PROTECTION: jsonOf(
    z.strictObject({
      enabled: z.boolean().optional(),
      burstPerMinute: z.number().int().min(1).max(100_000).optional(),
      burstFactor: z.number().int().min(1).max(1000).optional(),
      otpTags: z.array(budgetTag).max(20).optional(),
      minOtpVolume: z.number().int().min(1).max(100_000).optional(),
      collapsePercent: z.number().int().min(1).max(100).optional(),
      exemptHours: z
        .number()
        .int()
        .min(1)
        .max(24 * 30)
        .optional(),
      heldRecheckSeconds: z.number().int().min(5).max(3600).optional(),
    }),
    '{"burstPerMinute":20,"burstFactor":10,"otpTags":["otp","login"],"minOtpVolume":30,"collapsePercent":25,"exemptHours":24,"heldRecheckSeconds":30}',
  ).optional(),
});

export type Settings = z.infer<typeof settingsSchema>;
