// The emulator's runtime settings: their defaults, the zod schema that checks a patch (from code,
// the admin API or the CLI), and how a patch is merged. Everything here can change while running.
import { z } from 'zod';
import { inferSenderType, isValidSenderFormat, normalizeHandset, SENDER_TYPES, type SenderType } from './phoneNumbers.js';
import { EVENT_GRID, failureText, RATE_PER_MINUTE, REPEATABILITY } from '../../shared/domain/acsFacts.js';

/** Per-minute send limits per sender type, declared once in acsFacts.ts with their sources. */
export const DEFAULT_RATE_PER_MINUTE: Record<SenderType, number> = { ...RATE_PER_MINUTE };

/** One sender the emulated resource owns. */
export interface SenderSettings {
  /** E.164 number, 5–6 digit short code, or alphanumeric sender id. */
  number: string;
  type: SenderType;
  /** Messages (recipients, not requests) per minute. */
  ratePerMinute: number;
  /** Messages that may go at once from a full bucket; defaults to one minute's worth. */
  burst: number;
}

/** What happens to one handset, whatever is sent to it. */
export type HandsetFault =
  /**
   * ACS refuses the recipient inside the 202 (and inside an /sms/optouts answer): per-recipient
   * httpStatusCode and errorMessage; errorMessage undefined leaves it out, as some spec examples do.
   */
  | { kind: 'rejected'; httpStatusCode: number; errorMessage?: string }
  /** ACS accepts (202) but the delivery report says Failed with this code. */
  | { kind: 'failed'; code: number; details: string };

/** A whole-request fault for the next ACS request(s). */
export type RequestFault = 'throttle' | 'serverError' | 'timeout' | 'none';

export interface FaultSettings {
  /** Share (0..1) of ACS API requests answered 429 with Retry-After, nothing processed. */
  throttleShare: number;
  /** Share answered 500 or 503, nothing processed. */
  serverErrorShare: number;
  /** Share that "time out": see timeoutMode and processTimedOutRequests. */
  timeoutShare: number;
  /** Retry-After (seconds) on injected 429s. */
  retryAfterSeconds: number;
  /** How long a timed-out request is held before the emulator acts (timeoutMode). */
  timeoutMs: number;
  /** 'destroy': after timeoutMs the socket is destroyed, no response. 'hold': the real answer comes after timeoutMs. */
  timeoutMode: 'destroy' | 'hold';
  /** Whether a timed-out send is processed (sent, recorded) anyway: the nasty real-world case. */
  processTimedOutRequests: boolean;
  /** Fixed latency added to every ACS API response. */
  latencyMs: number;
  /** Faults for the next requests, in order, before the random shares apply; consumed one per request. */
  script: RequestFault[];
  /** Per handset (E.164) permanent failures. */
  handsets: Record<string, HandsetFault>;
}

export interface DeliveryReportSettings {
  /** Global switch for SMSDeliveryReportReceived events (GET /deliveryReports keeps working). */
  enabled: boolean;
  /** Time from acceptance to the delivery report. */
  delayMs: number;
  /** Share of reports that come late, by lateDelayMs more. */
  lateShare: number;
  lateDelayMs: number;
  /** Share of reports whose event is delivered twice (same event id), as Event Grid may. */
  duplicateShare: number;
  /** Reports are released in shuffled groups of this size (1 = in order). */
  shuffleWindow: number;
  /** A partly filled shuffle group is released after this long. */
  shuffleWindowMs: number;
}

export interface RepeatabilitySettings {
  /**
   * How long a repeatability id is remembered, counted from its repeatabilityFirstSent, or from its
   * arrival when that is older. 5 minutes is the only published figure, and it is for Email and Rooms
   * (acsFacts.ts REPEATABILITY); what SMS does is not published.
   */
  windowMs: number;
  /**
   * A first-sent older than the window: 'treatAsNew' (default) accepts it as a new request, as both
   * SMS spec examples answer a first-sent of 1 Apr 2019 with 202 "accepted"; 'reject' answers the
   * per-recipient 412 that the repeatable-requests page documents for Email and Rooms.
   */
  outsideWindow: 'reject' | 'treatAsNew';
  /**
   * A repeat of an id seen within the window: 'replay' returns the original recipient result
   * (same messageId, repeatabilityResult "accepted"), as ACS documents for repeatable requests;
   * 'reject' returns httpStatusCode 409, repeatabilityResult "rejected", the original messageId.
   */
  repeated: 'replay' | 'reject';
}

export interface EventGridSettings {
  /** The `topic` of every event: the emulated resource's id. */
  topic: string;
  /** Delivery attempts per event and subscriber, the first included. */
  maxAttempts: number;
  /** Backoff before retry n is retryBaseMs * 2^(n-1). */
  retryBaseMs: number;
  /** A subscriber that has not answered within this long counts as failed (Event Grid: 30 s). */
  requestTimeoutMs: number;
  /**
   * First attempts in flight at once per subscriber. 1 (default) keeps publish order; Event Grid
   * itself pushes to a webhook concurrently and without order, which a load test wants.
   */
  maxConcurrentDeliveries: number;
  /**
   * Events per POST, at most (Event Grid's "max events per batch", 1–5000). Events waiting when a
   * delivery starts go together, none is held back to fill a batch. Event Grid's default is 1 and
   * infra/ sets 1; the emulator defaults to 10 so handlers are always exercised with batches.
   */
  maxEventsPerBatch: number;
  /** How long a subscriber that answered the handshake 200 without a code has to GET the validationUrl (Event Grid: 5 min). */
  manualValidationMs: number;
}

/** The form of the message id POST /sms returns; see MESSAGE_ID_FORMS in acsFacts.ts. */
export type SendIdForm = 'auto' | 'outgoing' | 'bare' | 'regional' | 'guid';

/**
 * Which of the published forms the emulator writes. Every option exists because Microsoft has
 * published that form somewhere (acsFacts.ts names where); a client must accept all of them.
 */
export interface FormSettings {
  messageIds: {
    /**
     * 'auto' (default): the form published for the request's api-version — Outgoing_…_noam on
     * 2021-03-07 and older (every live recording), the regional form on 2024-12-10-preview (live
     * recordings), Outgoing_… on 2025 previews and 2025-09-17 (spec examples), no prefix on
     * 2026-01-23 (spec example).
     */
    send: SendIdForm;
    /** Suffix on Outgoing_/bare ids: 'auto' = as the form for the version says; '_prod_nam' has no published source. */
    suffix: 'auto' | 'none' | '_noam' | '_prod_nam';
    /**
     * The id in events: 'published' (default) = Outgoing_<stamp><guid> without any suffix, the form
     * of every event example, whatever the send returned; 'asSent' = exactly the send response's.
     */
    events: 'published' | 'asSent';
  };
  /**
   * Phone numbers in events: 'published' (default) as the examples — delivery report `from`
   * without "+", `to` with it, SMSReceived both without; 'plus' all with "+"; 'digits' none.
   * GET /deliveryReports always writes "+" (its example).
   */
  eventNumbers: 'published' | 'plus' | 'digits';
  /**
   * deliveryStatusDetails: 'text' = "No error." / the failure's text without a code (event
   * examples, SMS FAQ); 'coded' = "2000: No Error" / "4007: <text>" (GET example). Defaults:
   * events 'text', GET 'coded'.
   */
  deliveryStatusDetails: { events: 'text' | 'coded'; get: 'text' | 'coded' };
  /**
   * 'published' (default): 7 fractional digits in report timestamps, trailing zeros trimmed in
   * SMSReceived's receivedTimestamp, whole seconds in eventTime (".0000000" in CloudEvents time)
   * and in GET bodies — each as its example; 'milliseconds': Date.toISOString() everywhere.
   */
  timestamps: 'published' | 'milliseconds';
  /** Property names of event data: 'camel' (default; the swagger and today's docs page) or 'pascal' (older spec and docs examples). */
  dataCasing: 'camel' | 'pascal';
  /** The tag property of delivery report data: 'tag' (default; swagger, @azure/eventgrid) or 'Tag' (the docs page example). */
  tagProperty: 'tag' | 'Tag';
  /** The CloudEvents spec version attribute: 'specversion' (default) or 'specVersion' (one published sms_received example). */
  cloudEventsSpecVersionKey: 'specversion' | 'specVersion';
  /**
   * Per-recipient text for a number that fails the E.164 check: 'auto' (default) = "Unknown
   * country code." on 2024-12-10-preview (live recording) and "Invalid To phone number format."
   * elsewhere (recordings and every spec example).
   */
  invalidToText: 'auto' | 'invalidFormat' | 'unknownCountryCode';
  /**
   * Which ids GET /deliveryReports/{id} finds: 'exact' (default) only the id as POST /sms returned
   * it, the one form the spec shows; 'anyDecoration' also the id with another prefix or suffix —
   * not a published behaviour, kept for the pre-issue-15 preset only.
   */
  deliveryReportLookup: 'exact' | 'anyDecoration';
}

export interface OptOutSettings {
  /** Sender types for which the emulator texts the standard STOP/START confirmation back itself. */
  autoReplyTypes: SenderType[];
  /**
   * Sender types whose STOP/START texts change the opt-out list (ACS or the carrier manages
   * opt-outs). For the others the application manages them — as for a short code provisioned
   * without ACS opt-out management — and the emulator only forwards the text.
   */
  keywordTypes: SenderType[];
}

export interface AuthSettings {
  /** An x-ms-date further than this from now is refused with 401. */
  maxClockSkewMs: number;
}

export interface EmulatorSettings {
  senders: SenderSettings[];
  faults: FaultSettings;
  deliveryReports: DeliveryReportSettings;
  repeatability: RepeatabilitySettings;
  eventGrid: EventGridSettings;
  optOut: OptOutSettings;
  auth: AuthSettings;
  forms: FormSettings;
}

export const DEFAULT_TOPIC =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/acs-emulator/providers/microsoft.communication/communicationservices/acs-emulator';

export function defaultSettings(): EmulatorSettings {
  return {
    senders: [],
    faults: {
      throttleShare: 0,
      serverErrorShare: 0,
      timeoutShare: 0,
      retryAfterSeconds: 1,
      timeoutMs: 1000,
      timeoutMode: 'destroy',
      processTimedOutRequests: true,
      latencyMs: 0,
      script: [],
      handsets: {},
    },
    deliveryReports: {
      enabled: true,
      delayMs: 250,
      lateShare: 0,
      lateDelayMs: 5000,
      duplicateShare: 0,
      shuffleWindow: 1,
      shuffleWindowMs: 1000,
    },
    repeatability: { windowMs: REPEATABILITY.trackedMs, outsideWindow: 'treatAsNew', repeated: 'replay' },
    eventGrid: {
      topic: DEFAULT_TOPIC,
      maxAttempts: 5,
      retryBaseMs: 200,
      requestTimeoutMs: EVENT_GRID.requestTimeoutMs,
      maxConcurrentDeliveries: 1,
      maxEventsPerBatch: 10,
      manualValidationMs: 5000,
    },
    optOut: { autoReplyTypes: ['tollFree'], keywordTypes: [...SENDER_TYPES] },
    auth: { maxClockSkewMs: 15 * 60_000 },
    forms: publishedForms(),
  };
}

/** The published forms (the defaults). */
export function publishedForms(): FormSettings {
  return {
    messageIds: { send: 'auto', suffix: 'auto', events: 'published' },
    eventNumbers: 'published',
    deliveryStatusDetails: { events: 'text', get: 'coded' },
    timestamps: 'published',
    dataCasing: 'camel',
    tagProperty: 'tag',
    cloudEventsSpecVersionKey: 'specversion',
    invalidToText: 'auto',
    deliveryReportLookup: 'exact',
  };
}

/**
 * Named bundles of settings. 'published': the defaults above. 'pre-issue-15': the forms the
 * emulator wrote before it followed the published material (Outgoing_…_noam ids everywhere, "+"
 * numbers, millisecond timestamps, "<code>: <text>" details, one event per POST, 412 outside the
 * repeatability window) — for running a pipeline that still depends on them; it is not a form ACS
 * has been seen to send as a whole and is meant to be deleted once the pipeline reads every form.
 */
export const PRESETS = {
  published: (): SettingsPatch => ({
    forms: publishedForms(),
    eventGrid: { maxEventsPerBatch: 10 },
    repeatability: { outsideWindow: 'treatAsNew' },
  }),
  'pre-issue-15': (): SettingsPatch => ({
    forms: {
      messageIds: { send: 'outgoing', suffix: '_noam', events: 'asSent' },
      eventNumbers: 'plus',
      deliveryStatusDetails: { events: 'coded', get: 'coded' },
      timestamps: 'milliseconds',
      dataCasing: 'camel',
      tagProperty: 'tag',
      cloudEventsSpecVersionKey: 'specversion',
      invalidToText: 'invalidFormat',
      deliveryReportLookup: 'anyDecoration',
    },
    eventGrid: { maxEventsPerBatch: 1 },
    repeatability: { outsideWindow: 'reject' },
  }),
} as const;
export type PresetName = keyof typeof PRESETS;

// ---- Patch schema: what code, the admin API and the CLI may change. Unknown keys are errors, so a
// typo names the field instead of being ignored.

const share = z.number().min(0).max(1);
const ms = z.number().int().min(0);

const senderPatchSchema = z.strictObject({
  number: z.string().refine(isValidSenderFormat, 'must be an E.164 number, a 5-6 digit short code or an alphanumeric sender id'),
  type: z.enum(SENDER_TYPES).optional(),
  ratePerMinute: z.number().positive().optional(),
  burst: z.number().int().positive().optional(),
});

const handsetFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('rejected'),
    httpStatusCode: z.number().int().min(400).max(599).optional(),
    /** null: no errorMessage in the item. */
    errorMessage: z.string().min(1).nullable().optional(),
  }),
  z.strictObject({
    kind: z.literal('failed'),
    code: z.number().int().min(1000).max(9999),
    details: z.string().min(1).optional(),
  }),
]);

export const settingsPatchSchema = z.strictObject({
  senders: z.array(senderPatchSchema).optional(),
  faults: z
    .strictObject({
      throttleShare: share.optional(),
      serverErrorShare: share.optional(),
      timeoutShare: share.optional(),
      retryAfterSeconds: z.number().int().min(0).optional(),
      timeoutMs: ms.optional(),
      timeoutMode: z.enum(['destroy', 'hold']).optional(),
      processTimedOutRequests: z.boolean().optional(),
      latencyMs: ms.optional(),
      script: z.array(z.enum(['throttle', 'serverError', 'timeout', 'none'])).optional(),
      // null removes a handset's fault.
      handsets: z.record(z.string(), handsetFaultSchema.nullable()).optional(),
    })
    .optional(),
  deliveryReports: z
    .strictObject({
      enabled: z.boolean().optional(),
      delayMs: ms.optional(),
      lateShare: share.optional(),
      lateDelayMs: ms.optional(),
      duplicateShare: share.optional(),
      shuffleWindow: z.number().int().min(1).max(1000).optional(),
      shuffleWindowMs: ms.optional(),
    })
    .optional(),
  repeatability: z
    .strictObject({
      windowMs: z.number().int().positive().optional(),
      outsideWindow: z.enum(['reject', 'treatAsNew']).optional(),
      repeated: z.enum(['replay', 'reject']).optional(),
    })
    .optional(),
  eventGrid: z
    .strictObject({
      topic: z.string().min(1).optional(),
      maxAttempts: z.number().int().min(1).max(30).optional(),
      retryBaseMs: ms.optional(),
      requestTimeoutMs: z.number().int().positive().optional(),
      maxConcurrentDeliveries: z.number().int().min(1).max(256).optional(),
      maxEventsPerBatch: z.number().int().min(1).max(EVENT_GRID.maxEventsPerBatchLimit).optional(),
      manualValidationMs: z.number().int().positive().optional(),
    })
    .optional(),
  optOut: z
    .strictObject({
      autoReplyTypes: z.array(z.enum(SENDER_TYPES)).optional(),
      keywordTypes: z.array(z.enum(SENDER_TYPES)).optional(),
    })
    .optional(),
  auth: z.strictObject({ maxClockSkewMs: z.number().int().positive().optional() }).optional(),
  forms: z
    .strictObject({
      messageIds: z
        .strictObject({
          send: z.enum(['auto', 'outgoing', 'bare', 'regional', 'guid']).optional(),
          suffix: z.enum(['auto', 'none', '_noam', '_prod_nam']).optional(),
          events: z.enum(['published', 'asSent']).optional(),
        })
        .optional(),
      eventNumbers: z.enum(['published', 'plus', 'digits']).optional(),
      deliveryStatusDetails: z
        .strictObject({ events: z.enum(['text', 'coded']).optional(), get: z.enum(['text', 'coded']).optional() })
        .optional(),
      timestamps: z.enum(['published', 'milliseconds']).optional(),
      dataCasing: z.enum(['camel', 'pascal']).optional(),
      tagProperty: z.enum(['tag', 'Tag']).optional(),
      cloudEventsSpecVersionKey: z.enum(['specversion', 'specVersion']).optional(),
      invalidToText: z.enum(['auto', 'invalidFormat', 'unknownCountryCode']).optional(),
      deliveryReportLookup: z.enum(['exact', 'anyDecoration']).optional(),
    })
    .optional(),
  /** Applied first, then the rest of the patch: a named bundle of settings (PRESETS). */
  preset: z.enum(['published', 'pre-issue-15']).optional(),
});

/** A change to the settings; sections merge key by key, `senders` and `faults.script` are replaced. */
export type SettingsPatch = z.input<typeof settingsPatchSchema>;

/** Thrown for a patch that does not fit; `errors` maps a dotted field path to its problems. */
export class SettingsError extends Error {
  constructor(readonly errors: Record<string, string[]>) {
    super(
      `invalid emulator settings: ${Object.entries(errors)
        .map(([k, v]) => `${k}: ${v.join('; ')}`)
        .join(', ')}`,
    );
    this.name = 'SettingsError';
  }
}

/** zod issues as { "faults.throttleShare": ["..."] }. */
export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[], prefix = ''): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const issue of issues) {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.') || '(body)';
    (errors[path] ??= []).push(issue.message);
  }
  return errors;
}

function resolveSender(s: z.output<typeof senderPatchSchema>): SenderSettings {
  const type = s.type ?? inferSenderType(s.number);
  const ratePerMinute = s.ratePerMinute ?? DEFAULT_RATE_PER_MINUTE[type];
  return { number: s.number, type, ratePerMinute, burst: s.burst ?? Math.max(1, Math.ceil(ratePerMinute)) };
}

function resolveHandsetFault(f: z.output<typeof handsetFaultSchema>): HandsetFault {
  if (f.kind === 'rejected') {
    const errorMessage = f.errorMessage === undefined ? 'Invalid To phone number format.' : (f.errorMessage ?? undefined);
    return { kind: 'rejected', httpStatusCode: f.httpStatusCode ?? 400, ...(errorMessage !== undefined ? { errorMessage } : {}) };
  }
  return { kind: 'failed', code: f.code, details: f.details ?? failureText(f.code) };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Checks a patch and returns the merged settings; throws SettingsError naming the bad fields. */
export function applySettingsPatch(current: EmulatorSettings, patch: unknown): EmulatorSettings {
  const parsed = settingsPatchSchema.safeParse(patch ?? {});
  if (!parsed.success) throw new SettingsError(issuesToFieldErrors(parsed.error.issues));
  const { preset, ...p } = parsed.data;
  const base = preset ? applySettingsPatch(current, PRESETS[preset]()) : current;
  const next: EmulatorSettings = structuredClone(base);
  if (p.senders) {
    const seen = new Set<string>();
    for (const [i, s] of p.senders.entries()) {
      if (seen.has(s.number)) throw new SettingsError({ [`senders.${i}.number`]: ['is listed twice'] });
      seen.add(s.number);
    }
    next.senders = p.senders.map(resolveSender);
  }
  if (p.faults) {
    const { handsets, script, ...rest } = p.faults;
    Object.assign(next.faults, defined(rest));
    if (script) next.faults.script = [...script];
    for (const [phone, fault] of Object.entries(handsets ?? {})) {
      const key = normalizeHandset(phone);
      if (fault === null) delete next.faults.handsets[key];
      else next.faults.handsets[key] = resolveHandsetFault(fault);
    }
  }
  if (p.deliveryReports) Object.assign(next.deliveryReports, defined(p.deliveryReports));
  if (p.repeatability) Object.assign(next.repeatability, defined(p.repeatability));
  if (p.eventGrid) Object.assign(next.eventGrid, defined(p.eventGrid));
  if (p.optOut?.autoReplyTypes) next.optOut.autoReplyTypes = [...p.optOut.autoReplyTypes];
  if (p.optOut?.keywordTypes) next.optOut.keywordTypes = [...p.optOut.keywordTypes];
  if (p.auth) Object.assign(next.auth, defined(p.auth));
  if (p.forms) {
    const { messageIds, deliveryStatusDetails, ...rest } = p.forms;
    Object.assign(next.forms, defined(rest));
    if (messageIds) Object.assign(next.forms.messageIds, defined(messageIds));
    if (deliveryStatusDetails) Object.assign(next.forms.deliveryStatusDetails, defined(deliveryStatusDetails));
  }
  return next;
}
