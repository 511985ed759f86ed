// Planning a submit: what it would do, without doing it — shared by submit and preview. Each
// message's number is normalised, its text smart-encoded and counted in segments, its time checked;
// a message that is wrong is a per-message error (refusing the request, or with `partial: true`
// reported back while the rest goes on); then senders are chosen and opt-outs looked up.
import { NO_APPS, sendingPoolOf, withAppDefaults, type AppDirectory } from '../../domain/apps.js';
import { DEFAULT_APP } from '../../domain/caller.js';
import type { MessageCategory } from '../../domain/category.js';
import { analyzeMessage, type MessageAnalysis } from '../../domain/encoding.js';
import { geoVerdict, sendersReaching, type AllowedCountries } from '../../domain/geo.js';
import { messageIdOf, newBatchId } from '../../domain/ids.js';
import { MAX_SCHEDULE_AHEAD_MS } from '../../domain/message.js';
import { normalizePhoneNumber } from '../../domain/phoneNumber.js';
import { stickySender, type Sender } from '../../domain/sender.js';
import type { TemplateCategory, TemplateRef } from '../../domain/template.js';
import type { FieldError } from '../../domain/validation.js';
import { groupBy } from '../../lib/collections.js';
import type { OptOutStore } from '../../ports/consent.js';
import type { Clock } from '../../ports/runtime.js';
import type { TemplateStore } from '../../ports/templates.js';
import type { TrackedLink } from '../../domain/links.js';
import type { GeoRefusal, GeoRefused } from '../guard/geoPermissions.js';
import { draftsOf, type Draft, type RequestForm, type SubmitRequest } from './forms.js';
import { linkTrackingOf, withLinks, withPlaceholders, type LinkDeps } from './links.js';
import { quietHoursFor, requestCategory, type SendRuleDeps } from './sendRules.js';

/** Longest text a message may have once rendered (what ACS and a send job take). */
export const MAX_TEXT_LENGTH = 2048;

export interface PlanDeps extends LinkDeps, SendRuleDeps {
  optOuts: OptOutStore;
  clock: Clock;
  /** The whole pool (SMS_SENDERS); an app of SMS_APPS with its own numbers sends only from those. */
  senders: readonly Sender[];
  /** The apps of SMS_APPS: each one's pool and defaults (none when absent). */
  apps?: AppDirectory;
  maxSegments: number;
  templates: TemplateStore;
  /** Geo permissions: recipients in other countries are refused. */
  allowedCountries: AllowedCountries;
}

/** One message as it would be sent. */
export interface PlannedMessage {
  to: string;
  from: Sender;
  messageId: string;
  optedOut: boolean;
  /** The text as it would be sent (after smart encoding), its encoding and segments. */
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** Smart encoding replaced characters of the text. */
  textChanged: boolean;
  reference?: string;
  metadata?: Record<string, string>;
  scheduledAt?: Date;
  expiresAt?: Date;
  /** Its tracked links, when the request's links are tracked (its text has their short links). */
  links?: TrackedLink[];
  /** Why scheduledAt is later than asked: the recipient's quiet hours. */
  quietHours?: string;
  /** Quiet hours would hold it past its validity: it is recorded `expired` and never sent. */
  expired?: boolean;
  /** Over a frequency cap (why): it is recorded `suppressed` and never sent. */
  capped?: string;
}

/** An entry of a partial request that was not accepted. */
export interface RejectedMessage {
  to: string;
  reason: string;
  /** The entry ("messages[3]"); absent for a number of the one-text form. */
  field?: string;
  reference?: string;
}

/** What a submit would do, without doing it: shared by submit and preview. */
export interface SubmitPlan {
  batchId: string;
  /** The app the batch is attributed to; its senders are the app's pool (domain/apps.ts). */
  app: string;
  form: RequestForm;
  /** One text for every message (the one-text form): the text, its encoding and segments. */
  text?: string;
  encoding?: 'GSM-7' | 'UCS-2';
  segments?: number;
  template?: TemplateRef & { category: TemplateCategory };
  /** The messages' category (send rules). */
  category: MessageCategory;
  recipients: PlannedMessage[];
  rejected: RejectedMessage[];
  /** Of `rejected`, those the geo permissions refused, by country (partial requests). */
  geoRefused?: Record<string, number>;
  /** The request's own times (a message of the `messages` form may have its own). */
  scheduledAt?: Date;
  expiresAt?: Date;
}

export type PlanResult = { kind: 'plan'; plan: SubmitPlan } | { kind: 'invalid'; errors: FieldError[] } | GeoRefused;

interface Accepted {
  draft: Draft;
  to: string;
  analysis: MessageAnalysis;
  scheduledAt?: Date;
}

/**
 * Plans a submit under `batchId` (a new id when absent) for `app`; nothing is written. `deps.senders`
 * is the pool the app sends from (sendingPoolOf): the sender is chosen, and `from` checked, within it.
 */
export async function planSubmit(
  deps: PlanDeps,
  request: SubmitRequest,
  batchId?: string,
  app: string = DEFAULT_APP,
): Promise<PlanResult> {
  const now = deps.clock.now();
  // The app's pool: the sender is chosen (sticky) and `from` checked within it, never beyond.
  const apps = deps.apps ?? NO_APPS;
  const pool = sendingPoolOf(deps.senders, apps, app);
  request = withAppDefaults(request, apps.get(app));
  const { form, drafts, template, errors: requestErrors } = await draftsOf(deps.templates, request);
  if (requestErrors.length > 0) return { kind: 'invalid', errors: requestErrors };
  // Tracked links are shortened before anything is counted: placeholders of the codes' length now, codes once ids are known.
  const { tracking: trackingOf, error: trackingError } = await linkTrackingOf(deps, request, template);
  if (trackingError) return { kind: 'invalid', errors: [trackingError] };
  const tracking = trackingOf && { ...trackingOf, app };

  const analyses = new Map<string, MessageAnalysis>();
  const analyze = (text: string) => {
    let a = analyses.get(text);
    if (!a) analyses.set(text, (a = analyzeMessage(text, { smartEncoding: request.smartEncoding })));
    return a;
  };
  const tooLong = (a: MessageAnalysis) =>
    a.segments > deps.maxSegments
      ? `needs ${a.segments} segments (${a.encoding}); at most ${deps.maxSegments} are allowed`
      : undefined;

  // The messages, one by one: a wrong one is rejected with everything that is wrong with it.
  const entryErrors: FieldError[] = [];
  const rejected: RejectedMessage[] = [];
  const accepted: Accepted[] = [];
  const seen = new Map<string, string>();
  // Geo permissions: a recipient in a country not allowed is refused, like an invalid number.
  const refusals: GeoRefusal[] = [];
  const byCountry: Record<string, number> = {};
  for (const d of drafts) {
    const problems = [...d.errors];
    const number = normalizePhoneNumber(d.to);
    if (!number.ok) problems.push({ field: d.toField, message: number.reason });
    else if (seen.has(number.e164)) {
      if (form === 'text') continue; // the same text twice to one number is sent once
      problems.push({
        field: d.toField,
        message: `is the number of ${seen.get(number.e164)} too: a request sends one message per number`,
      });
    }
    let analysis: MessageAnalysis | undefined;
    if (form !== 'text' && d.errors.length === 0) {
      analysis = analyze(withPlaceholders(tracking, d.text));
      const segments = tooLong(analysis);
      if (analysis.text.length > MAX_TEXT_LENGTH)
        problems.push({
          field: d.textField,
          message: `makes a text of ${analysis.text.length} characters; at most ${MAX_TEXT_LENGTH} are allowed`,
        });
      else if (segments) problems.push({ field: d.textField, message: segments });
    }
    const scheduled = d.scheduledAt ? checkTime(d.scheduledAt, now) : undefined;
    if (scheduled?.error) problems.push({ field: d.scheduledAtField!, message: scheduled.error });
    if (problems.length > 0) {
      entryErrors.push(...problems);
      rejected.push({
        to: d.to.slice(0, 32),
        reason: problems.map((p) => (form === 'text' ? p.message : `${p.field}: ${p.message}`)).join('; '),
        ...(form === 'text' ? {} : { field: d.entry }),
        ...(d.reference ? { reference: d.reference } : {}),
      });
      continue;
    }
    const to = number.ok ? number.e164 : '';
    seen.set(to, d.entry);
    const geo = geoVerdict(deps.allowedCountries, to);
    if (!geo.allowed) {
      refusals.push({ field: d.toField, country: geo.country, message: geo.reason });
      rejected.push({
        to,
        reason: geo.reason,
        ...(form === 'text' ? {} : { field: d.entry }),
        ...(d.reference ? { reference: d.reference } : {}),
      });
      byCountry[geo.country ?? 'XX'] = (byCountry[geo.country ?? 'XX'] ?? 0) + 1;
      continue;
    }
    accepted.push({
      draft: d,
      to,
      analysis: analysis ?? analyze(withPlaceholders(tracking, d.text)),
      ...(scheduled?.at ? { scheduledAt: scheduled.at } : {}),
    });
  }
  const valid = accepted.length + refusals.length;
  if (entryErrors.length > 0 && (!request.partial || valid === 0)) {
    const none = { field: form === 'messages' ? 'messages' : 'to', message: 'no valid recipient' };
    return { kind: 'invalid', errors: valid === 0 && request.partial ? [...entryErrors, none] : entryErrors };
  }
  if (refusals.length > 0 && (!request.partial || accepted.length === 0)) return { kind: 'refused', refusals };

  // The request as a whole.
  const errors: FieldError[] = [];
  const shared = form === 'text' ? analyze(withPlaceholders(tracking, (request as { message: string }).message)) : undefined;
  const sharedTooLong = shared && tooLong(shared);
  if (sharedTooLong) errors.push({ field: 'message', message: sharedTooLong });
  let fixedSender: Sender | undefined;
  if (request.from !== undefined) {
    fixedSender = pool.find((s) => s.number === request.from);
    if (!fixedSender)
      errors.push({
        field: 'from',
        message: `is not one of the ${pool === deps.senders ? 'configured senders' : `senders of app "${app}"`} (${pool.map((s) => s.number).join(', ')})`,
      });
  }
  const requestTime = request.scheduledAt ? checkTime(request.scheduledAt, now) : undefined;
  if (requestTime?.error) errors.push({ field: 'scheduledAt', message: requestTime.error });
  if (errors.length > 0) return { kind: 'invalid', errors };
  const expiry = (scheduledAt: Date | undefined) =>
    request.validFor ? new Date((scheduledAt ?? now).getTime() + request.validFor * 1000) : undefined;

  const id = batchId ?? newBatchId(now);
  const category = requestCategory(deps, request, template);
  const planned: PlannedMessage[] = accepted.map((a, i) => {
    // Validity counts from the time asked for; quiet hours may move the send time past it.
    const asked = a.scheduledAt ?? requestTime?.at;
    const expiresAt = expiry(asked);
    const quiet = quietHoursFor(deps, category, a.to, asked ?? now);
    const scheduledAt = quiet?.until ?? asked;
    return {
      to: a.to,
      // Of the pool, the senders that can reach the recipient's country (all, when none can).
      from: fixedSender ?? stickySender(sendersReaching(pool, a.to), a.to),
      messageId: messageIdOf(id, i),
      optedOut: false,
      text: a.analysis.text,
      encoding: a.analysis.encoding,
      segments: a.analysis.segments,
      textChanged: a.analysis.text !== withPlaceholders(tracking, a.draft.text),
      ...(a.draft.reference ? { reference: a.draft.reference } : {}),
      ...(a.draft.metadata ? { metadata: a.draft.metadata } : {}),
      ...(scheduledAt ? { scheduledAt } : {}),
      ...(expiresAt ? { expiresAt } : {}),
      ...(quiet ? { quietHours: quiet.reason } : {}),
      ...(quiet && expiresAt && expiresAt.getTime() <= quiet.until.getTime() ? { expired: true } : {}),
    };
  });
  const recipients = tracking ? planned.map((r, i) => withLinks(tracking, r, accepted[i]!.draft.text, analyze, now)) : planned;

  // The cheap opt-out check: the sender checks again, authoritatively, right before the hand-over.
  await Promise.all(
    [...groupBy(recipients, (r) => r.from.number)].map(async ([sender, group]) => {
      const optedOut = await deps.optOuts.optedOut(
        sender,
        group.map((r) => r.to),
      );
      for (const r of group) r.optedOut = optedOut.has(r.to);
    }),
  );

  const requestExpiry = expiry(requestTime?.at);
  return {
    kind: 'plan',
    plan: {
      batchId: id,
      app,
      form,
      // Tracked links make each message's text its own.
      ...(shared && !tracking ? { text: shared.text, encoding: shared.encoding, segments: shared.segments } : {}),
      ...(template ? { template } : {}),
      category,
      recipients,
      rejected,
      ...(refusals.length > 0 ? { geoRefused: byCountry } : {}),
      ...(requestTime?.at ? { scheduledAt: requestTime.at } : {}),
      ...(requestExpiry ? { expiresAt: requestExpiry } : {}),
    },
  };
}

/** A scheduledAt checked: not in the past, at most 35 days ahead; a time already come is "now" (no time). */
function checkTime(value: string, now: Date): { at?: Date; error?: string } {
  const at = new Date(value);
  if (at.getTime() < now.getTime() - 60_000) return { error: 'is in the past' };
  if (at.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_MS) return { error: 'is more than 35 days ahead' };
  return at.getTime() > now.getTime() ? { at } : {};
}

/** The plan scheduled for `until` (a budget's next period): no message goes before it. */
export function deferPlan(plan: SubmitPlan, until: Date): SubmitPlan {
  const later = (at: Date | undefined) => (at && at.getTime() > until.getTime() ? at : until);
  return {
    ...plan,
    scheduledAt: later(plan.scheduledAt),
    recipients: plan.recipients.map((r) => ({ ...r, scheduledAt: later(r.scheduledAt) })),
  };
}
