// The ACS SMS REST surface (POST /sms, /sms/optouts:*, GET /deliveryReports/{id}): api-version,
// HMAC authentication, injected faults, validation in ACS's error shapes, per-sender rate limits.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorEnvelope, notFoundProblem, validationError } from './acsErrors.js';
import { apiSupportedVersionsHeader, SMS_API_VERSIONS } from '../../shared/domain/acsFacts.js';
import { deliveryReportBody } from './events.js';
import type { FaultInjector } from './faults.js';
import { verifyAcsRequest } from './hmacAuth.js';
import { BodyTooLargeError, parseJson, readBody, sendJson } from './http.js';
import { isValidSenderFormat, maskPhone } from './phoneNumbers.js';
import type { SenderRateLimiter } from './rateLimiter.js';
import type { EmulatorSettings } from './settings.js';
import type { SendMessageRequest, SmsService } from './smsService.js';
import type { EmulatorState, RequestLogEntry } from './state.js';

/** The api-versions each operation answers (acsFacts.ts SMS_API_VERSIONS names the sources). */
export const SEND_API_VERSIONS: readonly string[] = SMS_API_VERSIONS.send;
export const OPT_OUT_API_VERSIONS: readonly string[] = SMS_API_VERSIONS.optOuts;
export const DELIVERY_REPORT_API_VERSIONS: readonly string[] = SMS_API_VERSIONS.deliveryReports;

/** Versions before 2024-12-10-preview answer a malformed body with the bare model-state dictionary. */
function isModelStateVersion(apiVersion: string): boolean {
  return apiVersion < '2024-12-10';
}

/**
 * The preview versions on which the live service answered a malformed sender with 401, not 400
 * (recordings of Dec 2024; the SDK's test "throws an exception when sending from an invalid number"
 * expects 401 since).
 */
function refusesMalformedSenderAs401(apiVersion: string): boolean {
  return apiVersion.endsWith('-preview') && apiVersion >= '2024-12-10';
}

export interface AcsApiDeps {
  settings: () => EmulatorSettings;
  accessKey: string;
  state: EmulatorState;
  service: SmsService;
  faults: FaultInjector;
  rateLimiter: SenderRateLimiter;
  /** setTimeout whose timers close() clears; the callback never runs after close. */
  delay: (ms: number) => Promise<boolean>;
  log: (line: string) => void;
}

type Route = { kind: 'send' } | { kind: 'optouts'; action: 'add' | 'remove' | 'check' } | { kind: 'report'; id: string };

function route(method: string, path: string): Route | undefined {
  if (method === 'POST' && path === '/sms') return { kind: 'send' };
  const optouts = /^\/sms\/optouts:(add|remove|check)$/.exec(path);
  if (method === 'POST' && optouts) return { kind: 'optouts', action: optouts[1] as 'add' | 'remove' | 'check' };
  const report = /^\/deliveryReports\/([^/]*)$/.exec(path);
  if (method === 'GET' && report) {
    let id: string;
    try {
      id = decodeURIComponent(report[1]!);
    } catch {
      id = report[1]!;
    }
    return { kind: 'report', id };
  }
  return undefined;
}

function versionsFor(r: Route): readonly string[] {
  return r.kind === 'send' ? SEND_API_VERSIONS : r.kind === 'optouts' ? OPT_OUT_API_VERSIONS : DELIVERY_REPORT_API_VERSIONS;
}

/** 401 for a sender the resource does not own: exactly the body of the spec example and the recordings. */
const UNAUTHORIZED = { error: { code: 'Unauthorized', message: '' } };

export async function handleAcsRequest(deps: AcsApiDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const started = Date.now();
  const method = (req.method ?? 'GET').toUpperCase();
  // The SDK joins "http://host:port/" and "/sms" into "//sms"; ACS serves that too.
  const path = url.pathname.replace(/\/{2,}/g, '/');
  const traceparent = req.headers.traceparent;
  const log: RequestLogEntry = {
    at: new Date(started).toISOString(),
    method,
    path,
    status: 0,
    ...(typeof traceparent === 'string' ? { traceparent: traceparent.slice(0, 100) } : {}),
  };
  deps.state.logRequest(log);

  const r = route(method, path);
  let headers: Record<string, string> = {};
  const respond = async (status: number, body: unknown, extra: Record<string, string> = {}) => {
    const latency = deps.settings().faults.latencyMs;
    if (latency > 0 && !(await deps.delay(latency))) return;
    log.status = status;
    sendJson(res, status, body, { ...headers, 'ms-cv': `emu.${started.toString(36)}`, ...extra });
  };

  if (!r) {
    await respond(404, errorEnvelope('NotFound', `No ACS SMS operation at ${method} ${path}.`));
    return;
  }
  const versions = versionsFor(r);
  headers = { 'api-supported-versions': apiSupportedVersionsHeader(versions) };

  const apiVersion = url.searchParams.get('api-version');
  if (!apiVersion) {
    // The body of the OptOutCheck example's 400.
    await respond(400, {
      error: { code: 'ApiVersionUnspecified', message: 'An API version is required, but was not specified.', innerError: null },
    });
    return;
  }
  if (!versions.includes(apiVersion)) {
    // The body of the OptOutRemove example's 400: code InvalidApiVersion, the URI without its query.
    await respond(400, {
      error: {
        code: 'InvalidApiVersion',
        message: `The HTTP resource that matches the request URI 'http://${req.headers.host ?? 'localhost'}${path}' does not support the API version '${apiVersion}'.`,
        innerError: null,
      },
    });
    return;
  }

  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) await respond(413, errorEnvelope('RequestEntityTooLarge', error.message));
    else res.destroy();
    return;
  }

  const settings = deps.settings();
  const auth = verifyAcsRequest({
    method,
    rawUrl: req.url ?? '/',
    headers: req.headers,
    body,
    accessKey: deps.accessKey,
    now: Date.now(),
    maxClockSkewMs: settings.auth.maxClockSkewMs,
  });
  if (!auth.ok) {
    deps.log(`acs: 401 ${method} ${path}: ${auth.message}`);
    await respond(401, errorEnvelope('Denied', auth.message));
    return;
  }

  const fault = deps.faults.nextRequestFault();
  if (fault !== 'none') log.fault = fault;
  if (fault === 'throttle') {
    await respond(
      429,
      errorEnvelope('TooManyRequests', 'Too many requests (injected fault). Retry after the time in the Retry-After header.'),
      {
        'retry-after': String(settings.faults.retryAfterSeconds),
      },
    );
    return;
  }
  if (fault === 'serverError') {
    const status = deps.faults.serverErrorStatus();
    await respond(
      status,
      status === 503
        ? errorEnvelope('ServiceUnavailable', 'The service is temporarily unavailable (injected fault).')
        : errorEnvelope('InternalServerError', 'An internal error occurred (injected fault).'),
    );
    return;
  }

  const parsed = parseJson(body);
  const apiVersionUsed = apiVersion;
  const invalid = async (errors: Record<string, string[]>) => {
    const { body: errorBody, contentType } = validationError(
      isModelStateVersion(apiVersionUsed) ? 'model-state' : 'problem',
      errors,
    );
    // The recorded 400 of 2021-03-07 carries no api-supported-versions header.
    if (isModelStateVersion(apiVersionUsed)) headers = {};
    await respond(400, errorBody, { 'content-type': contentType });
  };

  // A timed-out request either never reaches the service or is processed while the client
  // gives up; `finish` answers accordingly.
  const finish = async (status: number, responseBody: unknown, onNoResponse?: () => void) => {
    if (fault !== 'timeout') {
      await respond(status, responseBody);
      return;
    }
    const s = deps.settings().faults;
    if (!(await deps.delay(s.timeoutMs))) return;
    if (s.timeoutMode === 'hold') {
      log.status = status;
      sendJson(res, status, responseBody, headers);
      return;
    }
    log.status = 'no-response';
    onNoResponse?.();
    req.socket.destroy();
  };
  const timedOutUnprocessed = fault === 'timeout' && !settings.faults.processTimedOutRequests;
  if (timedOutUnprocessed) {
    deps.log(`acs: ${method} ${path} timed out before processing (injected fault)`);
    if (!(await deps.delay(settings.faults.timeoutMs))) return;
    log.status = 'no-response';
    req.socket.destroy();
    return;
  }

  if (r.kind === 'report') {
    if (!/^[A-Za-z0-9_.-]{1,256}$/.test(r.id)) {
      await invalid({ outgoingMessageId: [`The value '${r.id}' is not valid.`] });
      return;
    }
    // Only the id exactly as POST /sms returned it: the spec's example uses one id for the path and
    // the report's messageId, and nothing says another form (another prefix or suffix) is accepted.
    const report =
      settings.forms.deliveryReportLookup === 'exact' ? deps.state.report(r.id) : deps.state.reportByAnyDecoration(r.id);
    if (!report) {
      await finish(404, notFoundProblem());
      return;
    }
    await finish(200, deliveryReportBody(report, settings.forms));
    return;
  }

  if (!parsed.ok) {
    await invalid({ $: [`The JSON value could not be converted: ${parsed.message}`] });
    return;
  }

  if (r.kind === 'optouts') {
    const check = validateOptOutBody(parsed.value);
    if (!check.ok) {
      await invalid(check.errors);
      return;
    }
    if (!deps.service.sender(check.value.from)) {
      deps.log(`acs: 401 optouts from ${maskPhone(check.value.from)}: not one of the emulator's senders`);
      await respond(401, UNAUTHORIZED, { 'content-type': 'application/json' });
      return;
    }
    await finish(200, { value: deps.service.optOuts(r.action, check.value.from, check.value.recipients) });
    return;
  }

  const check = validateSendBody(parsed.value);
  if (!check.ok) {
    const onlyFrom = Object.keys(check.errors).every((k) => k === 'From') && check.errors.From?.[0] === INVALID_FROM;
    if (onlyFrom && refusesMalformedSenderAs401(apiVersion)) {
      await respond(401, UNAUTHORIZED, { 'content-type': 'application/json' });
      return;
    }
    await invalid(check.errors);
    return;
  }
  const request = check.value;
  log.recipients = request.smsRecipients.length;
  log.from = request.from;
  const sender = deps.service.sender(request.from);
  if (!sender) {
    // ACS answers 401 for a sender the resource does not own (SDK live tests).
    deps.log(`acs: 401 send from ${maskPhone(request.from)}: not one of the emulator's senders`);
    await respond(401, UNAUTHORIZED, { 'content-type': 'application/json' });
    return;
  }
  const rate = deps.rateLimiter.take(sender.number, request.smsRecipients.length, sender, Date.now());
  if (!rate.ok) {
    log.fault = 'rateLimit';
    deps.log(`acs: 429 ${maskPhone(sender.number)} over ${sender.ratePerMinute}/min; retry after ${rate.retryAfterSeconds}s`);
    await respond(
      429,
      errorEnvelope(
        'TooManyRequests',
        `Rate limit of ${sender.ratePerMinute} messages per minute for this sender exceeded. Retry after ${rate.retryAfterSeconds} seconds.`,
      ),
      { 'retry-after': String(rate.retryAfterSeconds) },
    );
    return;
  }
  const { results, records } = deps.service.processSend(request, { apiVersion, now: new Date(), responded: true });
  await finish(202, { value: results }, () => {
    for (const record of records) record.responded = false;
  });
}

/** The text of the recorded 2021-03-07 400 and of the OptOutAdd example's 400. */
const INVALID_FROM = 'Invalid from phone number format.';

type Checked<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string[]> };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a send body with ASP.NET-style field keys and messages, as ACS reports them. */
export function validateSendBody(value: unknown): Checked<SendMessageRequest> {
  const errors: Record<string, string[]> = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  if (!isObject(value)) return { ok: false, errors: { $: ['A non-empty request body is required.'] } };

  const from = value.from;
  if (typeof from !== 'string' || from === '') add('From', 'The From field is required.');
  else if (!isValidSenderFormat(from)) add('From', INVALID_FROM);

  const recipients = value.smsRecipients;
  const parsedRecipients: SendMessageRequest['smsRecipients'] = [];
  if (!Array.isArray(recipients)) add('SmsRecipients', 'The SmsRecipients field is required.');
  else if (recipients.length < 1)
    add('SmsRecipients', "The field SmsRecipients must be a string or array type with a minimum length of '1'.");
  else if (recipients.length > 100)
    add('SmsRecipients', "The field SmsRecipients must be a string or array type with a maximum length of '100'.");
  else {
    recipients.forEach((r: unknown, i) => {
      if (!isObject(r) || typeof r.to !== 'string' || r.to === '') {
        add(`SmsRecipients[${i}].To`, 'The To field is required.');
        return;
      }
      const item: SendMessageRequest['smsRecipients'][number] = { to: r.to };
      if (r.repeatabilityRequestId !== undefined && r.repeatabilityRequestId !== null)
        item.repeatabilityRequestId = String(r.repeatabilityRequestId);
      if (r.repeatabilityFirstSent !== undefined && r.repeatabilityFirstSent !== null)
        item.repeatabilityFirstSent = String(r.repeatabilityFirstSent);
      parsedRecipients.push(item);
    });
  }

  const message = value.message;
  if (typeof message !== 'string' || message === '') add('Message', 'The Message field is required.');
  else if (message.length > 2048)
    add('Message', "The field Message must be a string or array type with a maximum length of '2048'.");

  const options = value.smsSendOptions;
  let smsSendOptions: SendMessageRequest['smsSendOptions'];
  if (options !== undefined && options !== null) {
    if (!isObject(options)) add('SmsSendOptions', 'The SmsSendOptions field is invalid.');
    else {
      if (options.enableDeliveryReport !== undefined && typeof options.enableDeliveryReport !== 'boolean') {
        add('SmsSendOptions.EnableDeliveryReport', 'The EnableDeliveryReport field must be true or false.');
      }
      if (options.tag !== undefined && options.tag !== null && typeof options.tag !== 'string')
        add('SmsSendOptions.Tag', 'The Tag field must be a string.');
      const timeout = options.deliveryReportTimeoutInSeconds;
      if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || timeout < 60 || timeout > 43200)) {
        add(
          'SmsSendOptions.DeliveryReportTimeoutInSeconds',
          'The field DeliveryReportTimeoutInSeconds must be between 60 and 43200.',
        );
      }
      smsSendOptions = {
        enableDeliveryReport: options.enableDeliveryReport === true,
        ...(typeof options.tag === 'string' ? { tag: options.tag } : {}),
      };
    }
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      from: from as string,
      smsRecipients: parsedRecipients,
      message: message as string,
      ...(smsSendOptions ? { smsSendOptions } : {}),
    },
  };
}

/** Validates an /sms/optouts body: { from, recipients: [{ to }] } with 1 to 100 recipients. */
export function validateOptOutBody(value: unknown): Checked<{ from: string; recipients: Array<{ to: string }> }> {
  const errors: Record<string, string[]> = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  if (!isObject(value)) return { ok: false, errors: { $: ['A non-empty request body is required.'] } };
  const from = value.from;
  if (typeof from !== 'string' || from === '') add('From', 'The From field is required.');
  // The OptOutAdd example's 400: {"errors": {"From": ["Invalid from phone number format."]}}.
  else if (!isValidSenderFormat(from)) add('From', INVALID_FROM);
  const recipients = value.recipients;
  const parsed: Array<{ to: string }> = [];
  if (!Array.isArray(recipients)) add('Recipients', 'The Recipients field is required.');
  else if (recipients.length < 1)
    add('Recipients', "The field Recipients must be a string or array type with a minimum length of '1'.");
  else if (recipients.length > 100)
    add('Recipients', "The field Recipients must be a string or array type with a maximum length of '100'.");
  else {
    recipients.forEach((r: unknown, i) => {
      if (!isObject(r) || typeof r.to !== 'string' || r.to === '') add(`Recipients[${i}].To`, 'The To field is required.');
      else parsed.push({ to: r.to });
    });
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { from: from as string, recipients: parsed } };
}
