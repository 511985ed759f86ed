// The tracked-link settings (docs/links.md), part of settingsSchema (settings.ts) like every other
// setting; kept apart so settings.ts stays readable. linkPolicyOf turns them into the domain's policy.
import { z } from 'zod';
import { linkBase, type LinkPolicy } from './domain/links.js';
import { jsonOf } from './settingsJson.js';

const TRACKING_EXAMPLE = '{"default":false,"tags":{"promo":true},"templates":{"welcome":true}}';
const UTM_EXAMPLE = '{"utm_source":"sms","utm_medium":"sms","utm_campaign":"{tag}"}';

export const linkSettings = {
  /**
   * The host (and optional path) of short links: "go.example.com" makes https://go.example.com/<code>
   * (a front door rewrites "/<code>" to the function app's /api/l/<code>); "go.example.com/api/l" when
   * the domain is bound to the function app itself (docs/links.md). Unset: links are not tracked.
   */
  LINK_DOMAIN: z
    .string()
    .trim()
    .regex(
      /^(localhost|127\.0\.0\.1|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)(:\d{1,5})?(\/[A-Za-z0-9._~-]+)*$/,
      'must be a host name with an optional path, such as go.example.com or go.example.com/api/l (no scheme)',
    )
    .optional(),
  /** Which requests have their links tracked when they do not say (trackLinks): by template name, by tag, by default. */
  LINK_TRACKING: jsonOf(
    z.strictObject({
      default: z.boolean().optional(),
      tags: z
        .record(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'tags are 1-64 letters, digits, _ . : -'), z.boolean())
        .optional(),
      templates: z.record(z.string().min(1).max(64), z.boolean()).optional(),
    }),
    TRACKING_EXAMPLE,
  ).optional(),
  /** Query parameters added to every tracked URL that does not have them; "{tag}" and "{template}" are filled in. */
  LINK_UTM: jsonOf(
    z.record(z.string(), z.string().min(1).max(100)).superRefine((utm, ctx) => {
      const names = Object.keys(utm);
      if (names.length > 10) ctx.addIssue({ code: 'custom', message: 'at most 10 parameters' });
      for (const name of names)
        if (!/^utm_[a-z_]{1,30}$/.test(name))
          ctx.addIssue({ code: 'custom', message: `"${name.slice(0, 40)}" is not a UTM parameter (utm_source, utm_medium …)` });
    }),
    UTM_EXAMPLE,
  ).optional(),
  /** Days a short link answers after its message was accepted; then 404. */
  LINK_EXPIRY_DAYS: z.coerce
    .number({ message: 'must be a whole number from 1 to 3650' })
    .int('must be a whole number from 1 to 3650')
    .min(1, 'must be a whole number from 1 to 3650')
    .max(3650, 'must be a whole number from 1 to 3650')
    .default(90),
};

type LinkSettings = z.output<ReturnType<typeof z.object<typeof linkSettings>>>;

/** The domain's link policy from the settings. */
export function linkPolicyOf(s: LinkSettings): LinkPolicy {
  return {
    ...(s.LINK_DOMAIN ? { base: linkBase(s.LINK_DOMAIN) } : {}),
    tracking: {
      default: s.LINK_TRACKING?.default ?? false,
      tags: s.LINK_TRACKING?.tags ?? {},
      templates: s.LINK_TRACKING?.templates ?? {},
    },
    utm: s.LINK_UTM ?? {},
    expiryDays: s.LINK_EXPIRY_DAYS,
  };
}
