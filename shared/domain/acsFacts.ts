// The ACS SMS and Event Grid facts, each declared once with where Microsoft published it: the
// pipeline (shared/) and the ACS emulator (local/acsEmulator/) both read them from here, so the two
// cannot drift apart. Pure data, no imports. Where a value is a choice because nothing is
// published, it says so.
//
// Source shorthands used below (full paths and commits in test/fixtures/published/index.json):
//   [spec <v>]      Azure/azure-rest-api-specs specification/communication/data-plane/Sms/<stable|preview>/<v>/
//   [rec 2024-12]   @azure/communication-sms 1.2.0-beta.2 recordings, Azure/azure-sdk-assets tag
//                   js/communication/communication-sms_ec9512b489 (api-version 2024-12-10-preview)
//   [rec 2022-04]   @azure/communication-sms recordings of 25 Apr 2022 in Azure/azure-sdk-for-js (2021-03-07)
//   [java 2021]     Azure/azure-sdk-for-java sdk/communication/azure-communication-sms/src/test/resources/session-records/
//   [sms-events]    MicrosoftDocs/azure-docs articles/event-grid/communication-services-telephony-sms-events.md
//   [eg-examples]   azure-rest-api-specs specification/eventgrid/data-plane/Microsoft.Communication/stable/2018-01-01/examples/
//   [sms-codes]     MicrosoftDocs/azure-docs articles/communication-services/concepts/includes/codes/sms-sdk.md
//   [sms-faq]       MicrosoftDocs/azure-docs articles/communication-services/concepts/sms/sms-faq.md
//   [repeatable]    learn.microsoft.com/rest/api/communication/repeatable-requests ("Applies to: ACS Email, ACS Rooms")
//   [eg-webhook]    MicrosoftDocs/azure-docs articles/event-grid/webhook-event-delivery.md (53f11ed0)
//   [eg-retry]      MicrosoftDocs/azure-docs articles/event-grid/delivery-and-retry.md (2ccf6fd4)
//   [eg-headers]    MicrosoftDocs/azure-docs articles/event-grid/includes/message-headers.md (43ceb4d8)
//   [eg-ce]         MicrosoftDocs/azure-docs articles/event-grid/cloud-event-schema.md and end-point-validation-cloud-events-schema.md
//   [fx-eventgrid]  Azure/azure-sdk-for-net sdk/eventgrid/Microsoft.Azure.WebJobs.Extensions.EventGrid/src (the Functions host's Event Grid trigger)

// ---------------------------------------------------------------- REST API versions

/**
 * The api-versions each operation answers. POST /sms: every version the live service listed in
 * `api-supported-versions` [rec 2024-12] plus the ones published since [spec 2025-05-29-preview,
 * 2025-08-01-preview, 2025-09-17, 2026-01-23]. Opt-outs: from 2024-12-10-preview [rec 2024-12, spec].
 * GET /deliveryReports/{id}: the versions whose spec has it [spec 2025-08-01-preview, 2026-01-23].
 */
export const SMS_API_VERSIONS = {
  send: [
    '2020-07-20-preview1',
    '2020-08-20-preview',
    '2021-03-07',
    '2023-06-30-privatepreview',
    '2024-02-05-preview',
    '2024-12-10-preview',
    '2025-05-29-preview',
    '2025-08-01-preview',
    '2025-09-17',
    '2026-01-23',
  ],
  optOuts: ['2024-12-10-preview', '2025-05-29-preview', '2025-08-01-preview', '2025-09-17', '2026-01-23'],
  deliveryReports: ['2025-08-01-preview', '2026-01-23'],
} as const;

/** `api-supported-versions` as the live service wrote it: comma and space [rec 2024-12, rec 2022-04]. */
export function apiSupportedVersionsHeader(versions: readonly string[]): string {
  return versions.join(', ');
}

/** What @azure/communication-sms sends when not told otherwise (dist/esm/generated/src/smsApiClient.js of each). */
export const SDK_DEFAULT_API_VERSION = {
  '1.1.0': '2021-03-07',
  '1.2.0-beta.2': '2024-12-10-preview', // the version in every request of [rec 2024-12]
  '1.2.0-beta.4': '2025-05-29-preview', // npm @azure/communication-sms@1.2.0-beta.4
} as const;

// ---------------------------------------------------------------- message ids

/**
 * The forms an outgoing message id has been published in. Nothing promises one of them, and no
 * published pair shows one message's id in a send response and in its event, so the pipeline keeps
 * the id exactly as POST /sms returned it (for GET /deliveryReports/{id}) and matches ids by their
 * key: the one GUID every form carries (`acsMessageKey` in ids.ts).
 */
export const MESSAGE_ID_FORMS = {
  /** "Outgoing_20200610203725bfd4ba70-70bf-4f77-925d-c0bdb5161bb3" [spec 2021-03-07, 2024-12-10-preview, 2025-05-29-preview; eg-examples; sms-events]. */
  outgoing: 'Outgoing_<yyyyMMddHHmmss><guid>',
  /** "Outgoing_2022042501040914d01119-b679-4b11-831d-ac9751418e02_noam" [rec 2022-04, java 2021, one item of spec 2021-03-07]. */
  outgoingNoam: 'Outgoing_<yyyyMMddHHmmss><guid>_noam',
  /** "20200610203725bfd4ba70-70bf-4f77-925d-c0bdb5161bb3", no prefix at all [spec 2026-01-23 SmsSend, version 443f6137]. */
  bare: '<yyyyMMddHHmmss><guid>',
  /** "2024-12-05T07:14:43_c283d2ec-26e2-4b28-97c1-0d8450b135be_prod_eur_switzerlandnorth_outgoing-mms" [rec 2024-12]. */
  regional: '<yyyy-MM-ddTHH:mm:ss>_<guid>_prod_<geo>_<region>_outgoing-mms',
  /** "Incoming_20200918002745d29ebbea-3341-4466-9690-0a03af35228e" [eg-examples, sms-events]. */
  incoming: 'Incoming_<yyyyMMddHHmmss><guid>',
} as const;

/** The region part of [rec 2024-12] ids; both values were recorded. */
export const RECORDED_ID_REGIONS = ['prod_eur_switzerlandnorth', 'prod_eur_westeurope'] as const;

// ---------------------------------------------------------------- delivery reports

/** The only values of DeliveryStatus (MicrosoftDocs/azure-docs issue #92663, answered by the product team; [sms-events] note). */
export const DELIVERY_STATUSES = ['Delivered', 'Failed'] as const;

/**
 * Delivery report codes and their messages [sms-codes]: "The error codes are exposed through the
 * DeliveryStatusDetails field in the SMS delivery report". How they are exposed is not said.
 */
export const DELIVERY_STATUS_CODES: Readonly<Record<number, string>> = {
  2000: 'Message Delivered Successfully.',
  4000: 'Message is rejected due to fraud detection.',
  4001: 'Message is rejected due to invalid Source/From number format',
  4002: 'Message is rejected due to invalid Destination/To number format.',
  4003: 'Message failed to deliver due to unsupported destination.',
  4004: "Message failed to deliver since Destination/To number doesn't exist.",
  4005: 'Message is blocked by Destination carrier.',
  4006: "The Destination/To number isn't reachable.",
  4007: 'The Destination/To number has opted out of receiving messages from you.',
  4008: "You've exceeded the maximum number of messages allowed for your profile.",
  4009: 'Message is rejected by Microsoft Entitlement System.',
  4010: 'Message was blocked due to the toll-free number not being verified.',
  5000: 'Message failed to deliver. Reach out Microsoft support team for more details.',
  5001: 'Message failed to deliver due to temporary unavailability of application/system.',
  5002: 'Carrier does not support delivery report',
  9999: 'Message failed to deliver due to unknown error/failure.',
};

/** 4007: the recipient opted out [sms-codes]. */
export const CARRIER_OPT_OUT_CODE = 4007;

/**
 * The deliveryStatusDetails forms published:
 * - every event example says "No error." for a delivered message, no code [eg-examples, sms-events];
 * - the GET /deliveryReports example says "2000: No Error" [spec 2026-01-23, 2025-08-01-preview];
 * - for a recipient who sent STOP, "The delivery report will indicate a failed delivery with status
 *   message as 'Sender blocked for given recipient.'" [sms-faq], no code.
 * No failed report has been published in full, so a failure's text beside its code is unknown.
 */
export const DELIVERY_STATUS_DETAILS = {
  deliveredText: 'No error.',
  deliveredCoded: '2000: No Error',
  optOutText: 'Sender blocked for given recipient.',
} as const;

/** The text the emulator writes for a failure code: the FAQ's words for 4007, the code table's otherwise. */
export function failureText(code: number): string {
  if (code === CARRIER_OPT_OUT_CODE) return DELIVERY_STATUS_DETAILS.optOutText;
  return DELIVERY_STATUS_CODES[code] ?? DELIVERY_STATUS_CODES[9999]!;
}

// ---------------------------------------------------------------- numbers and senders

/**
 * E.164 as ACS applies it to recipients: "+" and up to 15 digits (ITU-T E.164). "+1" numbers need
 * exactly 10 more digits: "+1425555012345" was refused per recipient with "Invalid To phone number
 * format." [rec 2022-04] and "Unknown country code." [rec 2024-12]; "+112345678901" with the former
 * [spec, every version].
 */
export const E164 = /^\+[1-9]\d{7,14}$/;
export const NANP_LENGTH = 12;

/** Short codes are 5–6 digits; alphanumeric sender ids up to 11 of A-Z, a-z, 0-9 and space with a letter [sms-faq]. */
export const SHORT_CODE = /^\d{5,6}$/;
export const ALPHANUMERIC_SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

/**
 * Messages a minute per number [sms-faq "Rate limits for SMS"]: toll-free 200, short code 6000,
 * alphanumeric 600 (per resource). The FAQ gives no per-minute figure for 10DLC or mobile numbers
 * (10DLC: per carrier per day); the value for those is a choice, marked as such.
 */
export const RATE_PER_MINUTE = {
  tollFree: 200,
  shortCode: 6000,
  alphanumeric: 600,
  /** Not published: a choice (the toll-free figure). */
  tenDlc: 200,
  /**
   * Not published: a choice (the toll-free figure, as for 10DLC). The pipeline once paced mobile
   * numbers at 60/min and the emulator limited them at 200/min; one figure now serves both.
   */
  mobile: 200,
} as const;

/** Opt-out keywords ACS acts on for toll-free numbers [sms-faq]; STOPALL and OPTOUT are common carrier keywords (CTIA), not in the FAQ. */
export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
  'OPT OUT',
] as const;
export const OPT_IN_KEYWORDS = ['START', 'UNSTOP'] as const;

/**
 * GSM 03.38 / 3GPP TS 23.038 default alphabet and extension table (not an ACS fact; ACS counts
 * segments by it). The escape character 0x1B is not a character of its own.
 */
export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
export const GSM7_EXTENSION = '^{}\\[~]|€\f';

// ---------------------------------------------------------------- repeatability

/**
 * What is published about repeatability of POST /sms:
 * - the SMS spec carries repeatabilityRequestId/repeatabilityFirstSent per recipient and says a
 *   repeated id gets "an appropriate response without the server executing the request multiple
 *   times"; it gives no tracking window and no 412 [spec 2021-03-07, 2026-01-23];
 * - both SMS examples send a first-sent of "Mon, 01 Apr 2019 06:22:03 GMT" and get 202
 *   "accepted" [spec 2021-03-07 … 2026-01-23];
 * - a tracked window of 5 minutes and 412 for a first-sent outside it are documented for Email and
 *   Rooms only [repeatable];
 * - the recorded first-sent values are the recorder's sanitizer output, not what ACS received
 *   (recordedClient.ts in Azure/azure-sdk-for-js), so the recordings prove nothing either way.
 * So a first-sent far in the past is accepted, and how long ACS remembers an id is unknown.
 */
export const REPEATABILITY = {
  /** The only published tracking duration for ACS repeatability [repeatable]; for SMS an assumption. */
  trackedMs: 5 * 60_000,
  /** Texts of the per-recipient rejections [spec]. */
  invalidFirstSent:
    'Request sent with Invalid DateTime value for repeatability-first-sent. Expected is DateTime ,RFC1123 pattern.',
} as const;

// ---------------------------------------------------------------- Event Grid webhook delivery

export const EVENT_GRID = {
  /** Delivery counts as done only on these [eg-retry "Success codes"]. */
  successStatuses: [200, 201, 202, 203, 204],
  /** Webhook answers never retried [eg-retry]; 401 is retried for Azure resource endpoints only. */
  neverRetried: [400, 401, 403, 413],
  /** The subscription validation answer must be 200; "HTTP 202 Accepted isn't recognized" [eg-webhook]. */
  validationStatus: 200,
  /** The validationUrl is valid for 5 minutes [eg-webhook]. */
  manualValidationMs: 5 * 60_000,
  /** Event Grid waits 30 seconds for an answer [eg-retry]. */
  requestTimeoutMs: 30_000,
  /** Values of aeg-event-type [eg-headers]; the Functions host also answers "Unsubscribe" with 202 [fx-eventgrid]. */
  aegEventTypes: ['SubscriptionValidation', 'Notification', 'SubscriptionDeletion'],
  /** content-type of deliveries; the headers are otherwise the same for both schemas [eg-ce]. */
  contentType: {
    EventGridSchema: 'application/json; charset=utf-8',
    CloudEventSchemaV1_0: 'application/cloudevents+json; charset=utf-8',
  },
  /** The CloudEvents abuse-protection handshake: OPTIONS with WebHook-Request-Origin [eg-ce]; the origin the Functions host knows for the public cloud [fx-eventgrid]. */
  webhookRequestOrigin: 'eventgrid.azure.net',
  /**
   * The WebHook-Request-Origin values the Functions host echoes in Webhook-Allowed-Origin; for any
   * other (or none) it answers the public cloud's [fx-eventgrid HttpRequestProcessor.cs
   * GetAllowedOriginResponseHeader].
   */
  knownRequestOrigins: [
    'eventgrid.azure.net',
    'eventgrid.azure.us',
    'eventgrid.azure.eaglex.ic.gov',
    'eventgrid.azure.microsoft.scloud',
    'eventgrid.azure.cn',
  ],
  /** "By default, Event Grid delivers one event at a time … an array with a single event"; batching is per subscription, 1–5000 events [eg-retry]. */
  maxEventsPerBatchLimit: 5000,
  /** The SubscriptionValidationEvent example's versions [eg-webhook]. */
  validationEvent: { dataVersion: '1', metadataVersion: '1' },
  /** The SMS events' versions [eg-examples, sms-events]. */
  smsEvent: { dataVersion: '1.0', metadataVersion: '1' },
} as const;
