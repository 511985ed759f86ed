// The emulator's runtime settings: their defaults, the zod schema that checks a patch (from code,
// the admin API or the CLI), and how a patch is merged. Everything here can change while running.
import { z } from 'zod';
import { inferSenderType, isValidSenderFormat, normalizeHandset, SENDER_TYPES, type SenderType } from './phoneNumbers.js';
import type { MessageIdFormat } from './messageIds.js';

/** Per-minute send limits ACS documents per number type (SMS FAQ, "Rate limits for SMS"). */
export const DEFAULT_RATE_PER_MINUTE: Record<SenderType, number> = {
  tollFree: 200,
  shortCode: 6000,
  alphanumeric: 600,
  // The FAQ gives 10DLC limits per carrier per day only; a toll-free-like default keeps tests sane.
  tenDlc: 200,
  mobile: 200,
};

/** Delivery report status codes ACS documents (troubleshooting codes, SMS) and their messages. */
export const DELIVERY_STATUS_TEXT: Record<number, string> = {
  2000: 'Message Delivered Successfully.',
  4000: 'Message is rejected due to fraud detection.',
  4001: 'Message is rejected due to invalid Source/From number format.',
  4002: 'Message is rejected due to invalid Destination/To number format.',
  4003: 'Message failed to deliver due to unsupported destination.',
  4004: "Message failed to deliver since Destination/To number doesn't exist.",
  4005: 'Message is blocked by Destination carrier.',
  4006: "The Destination/To number isn't reachable.",
  // The SMS FAQ gives this text for a recipient who replied STOP.
  4007: 'Sender blocked for given recipient.',
  4008: "You've exceeded the maximum number of messages allowed for your profile.",
  4009: 'Message is rejected by Microsoft Entitlement System.',
  4010: 'Message was blocked due to the toll-free number not being verified.',
  5000: 'Message failed to deliver. Reach out Microsoft support team for more details.',
  5001: 'Message failed to deliver due to temporary unavailability of application/system.',
  5002: 'Carrier does not support delivery report',
  9999: 'Message failed to deliver due to unknown error/failure.',
};

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
  /** ACS refuses the recipient inside the 202: per-recipient httpStatusCode and errorMessage. */
  | { kind: 'rejected'; httpStatusCode: number; errorMessage: string }
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
  /** How long a repeatability id is remembered, counted from its repeatabilityFirstSent (ACS: 5 minutes). */
  windowMs: number;
  /** A first-sent older than the window: 'reject' (per-recipient 412, ACS's documented behaviour) or 'treatAsNew'. */
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
  messageIdFormat: MessageIdFormat;
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
    repeatability: { windowMs: 5 * 60_000, outsideWindow: 'reject', repeated: 'replay' },
    eventGrid: { topic: DEFAULT_TOPIC, maxAttempts: 5, retryBaseMs: 200, requestTimeoutMs: 30_000, maxConcurrentDeliveries: 1 },
    optOut: { autoReplyTypes: ['tollFree'], keywordTypes: [...SENDER_TYPES] },
    auth: { maxClockSkewMs: 15 * 60_000 },
    messageIdFormat: 'acs',
  };
}

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
    errorMessage: z.string().min(1).optional(),
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
    })
    .optional(),
  optOut: z
    .strictObject({ autoReplyTypes: z.array(z.enum(SENDER_TYPES)).optional(), keywordTypes: z.array(z.enum(SENDER_TYPES)).optional() })
    .optional(),
  auth: z.strictObject({ maxClockSkewMs: z.number().int().positive().optional() }).optional(),
  messageIdFormat: z.enum(['acs', 'guid']).optional(),
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
    return {
      kind: 'rejected',
      httpStatusCode: f.httpStatusCode ?? 400,
      errorMessage: f.errorMessage ?? 'Invalid To phone number format.',
    };
  }
  return { kind: 'failed', code: f.code, details: f.details ?? DELIVERY_STATUS_TEXT[f.code] ?? 'Message failed to deliver.' };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Checks a patch and returns the merged settings; throws SettingsError naming the bad fields. */
export function applySettingsPatch(current: EmulatorSettings, patch: unknown): EmulatorSettings {
  const parsed = settingsPatchSchema.safeParse(patch ?? {});
  if (!parsed.success) throw new SettingsError(issuesToFieldErrors(parsed.error.issues));
  const p = parsed.data;
  const next: EmulatorSettings = structuredClone(current);
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
  if (p.messageIdFormat) next.messageIdFormat = p.messageIdFormat;
  return next;
}
