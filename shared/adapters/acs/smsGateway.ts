// The ACS SMS adapter: the real @azure/communication-sms SmsClient for sends (with the
// repeatability policy), and the same authentication for GET /deliveryReports/{id}.
// SDKs are imported on first use so loading the function app stays fast.
import type { Config } from '../../config.js';
import {
  GatewayError,
  type GatewayDeliveryReport,
  type GatewayRecipientResult,
  type GatewaySendRequest,
  type SmsGateway,
} from '../../ports/gateway.js';
import type { SMS_API_VERSIONS } from '../../domain/acsFacts.js';
import { readStatusDetails } from '../../domain/deliveryStatusDetails.js';
import { parseRetryAfter } from '../../lib/retryAfter.js';
import { neverSent } from '../outage.js';
import { encodeRepeatability, REPEATABILITY_HEADER, repeatabilityPolicy, type RepeatabilityMap } from './repeatabilityPolicy.js';
import { traceparentPolicy } from './traceparentPolicy.js';

type VersionOf<K extends keyof typeof SMS_API_VERSIONS> = (typeof SMS_API_VERSIONS)[K][number];

/**
 * The one ACS api-version of every call: the stable version that has POST /sms, the opt-out list
 * and GET /deliveryReports/{id} (acsFacts.ts SMS_API_VERSIONS). Sends use it too: GET is asked for
 * the id exactly as the send returned it, the only form its example shows, and whether GET finds an
 * id sent on another version is not published. (SmsClient 1.1 would send on 2021-03-07.)
 */
export const ACS_API_VERSION = '2026-01-23' satisfies VersionOf<'send'> & VersionOf<'optOuts'> & VersionOf<'deliveryReports'>;

/** The recipient of the health check's opt-out check: a fictional number (555-01xx), never texted. */
export const PING_RECIPIENT = '+14255550100';

interface Clients {
  sms: import('@azure/communication-sms').SmsClient;
  /** A raw pipeline with ACS authentication, for the operations SmsClient 1.1 lacks. */
  send(
    request: import('@azure/core-rest-pipeline').PipelineRequest,
  ): Promise<import('@azure/core-rest-pipeline').PipelineResponse>;
  createRequest: typeof import('@azure/core-rest-pipeline').createPipelineRequest;
  endpoint: string;
}

export function createAcsGateway(acs: Config['acs'], options: { timeoutMs: number }): SmsGateway {
  let clients: Promise<Clients> | undefined;
  const getClients = () => (clients ??= buildClients(acs));

  return {
    async send(request: GatewaySendRequest): Promise<GatewayRecipientResult[]> {
      const { sms } = await getClients();
      const map: RepeatabilityMap = {};
      for (const r of request.recipients) {
        map[r.to] = { repeatabilityRequestId: r.repeatabilityRequestId, repeatabilityFirstSent: r.repeatabilityFirstSent };
      }
      let results;
      try {
        results = await sms.send(
          { from: request.from, to: request.recipients.map((r) => r.to), message: request.message },
          {
            enableDeliveryReport: request.deliveryReport,
            ...(request.tag ? { tag: request.tag } : {}),
            abortSignal: AbortSignal.timeout(options.timeoutMs),
            requestOptions: { customHeaders: { [REPEATABILITY_HEADER]: encodeRepeatability(map) } },
          },
        );
      } catch (error) {
        throw toGatewayError(error);
      }
      // SmsSendResult's type omits repeatabilityResult, though the deserialized response has it.
      return (results as Array<(typeof results)[number] & { repeatabilityResult?: string }>).map(toRecipientResult);
    },

    async getDeliveryReport(acsMessageId: string): Promise<GatewayDeliveryReport | undefined> {
      const c = await getClients();
      const url = new URL(
        `deliveryReports/${encodeURIComponent(acsMessageId)}`,
        c.endpoint.endsWith('/') ? c.endpoint : `${c.endpoint}/`,
      );
      url.searchParams.set('api-version', ACS_API_VERSION);
      let response;
      try {
        response = await c.send(c.createRequest({ url: url.toString(), method: 'GET', timeout: options.timeoutMs }));
      } catch (error) {
        throw toGatewayError(error);
      }
      if (response.status === 404) return undefined;
      if (response.status !== 200) {
        throw new GatewayError(`ACS answered ${response.status} to a delivery report lookup`, {
          transient: response.status === 429 || response.status >= 500,
          uncertain: false,
          status: response.status,
          ...retryAfter(response.headers.get('retry-after')),
        });
      }
      return parseDeliveryReport(acsMessageId, response.bodyAsText ?? '');
    },

    async setOptOut(action: 'add' | 'remove', from: string, to: string): Promise<void> {
      const c = await getClients();
      const url = new URL(`sms/optouts:${action}`, c.endpoint.endsWith('/') ? c.endpoint : `${c.endpoint}/`);
      url.searchParams.set('api-version', ACS_API_VERSION);
      const request = c.createRequest({ url: url.toString(), method: 'POST', timeout: options.timeoutMs });
      request.headers.set('content-type', 'application/json');
      request.body = JSON.stringify({ from, recipients: [{ to }] });
      let response;
      try {
        response = await c.send(request);
      } catch (error) {
        throw toGatewayError(error);
      }
      if (response.status !== 200) {
        throw new GatewayError(`ACS answered ${response.status} to optouts:${action}`, {
          transient: response.status === 429 || response.status >= 500,
          uncertain: false,
          status: response.status,
          ...retryAfter(response.headers.get('retry-after')),
        });
      }
      let item: { httpStatusCode?: number; errorMessage?: string } | undefined;
      try {
        item = (JSON.parse(response.bodyAsText ?? '{}') as { value?: Array<{ httpStatusCode?: number; errorMessage?: string }> })
          .value?.[0];
      } catch {
        item = undefined;
      }
      if (!item || (item.httpStatusCode !== undefined && item.httpStatusCode !== 200)) {
        throw new GatewayError(`ACS refused optouts:${action}: ${item?.errorMessage ?? 'no result for the recipient'}`, {
          transient: false,
          uncertain: false,
          ...(item?.httpStatusCode ? { status: item.httpStatusCode } : {}),
        });
      }
    },

    async ping(from?: string): Promise<void> {
      const c = await getClients();
      const base = c.endpoint.endsWith('/') ? c.endpoint : `${c.endpoint}/`;
      let request;
      if (from) {
        // An opt-out check (POST /sms/optouts:check) for one of our numbers and a fictional recipient:
        // it sends and changes nothing, and it is an SMS operation authorised like a send, so a
        // 401/403 here is what the next send would get. The deploy hook reads it through /api/health.
        const url = new URL('sms/optouts:check', base);
        url.searchParams.set('api-version', ACS_API_VERSION);
        request = c.createRequest({ url: url.toString(), method: 'POST', timeout: 5000 });
        request.headers.set('content-type', 'application/json');
        request.body = JSON.stringify({ from, recipients: [{ to: PING_RECIPIENT }] });
      } else {
        // Any HTTP answer proves the endpoint is reachable; an unknown id is a cheap 404.
        const url = new URL('deliveryReports/health-check', base);
        url.searchParams.set('api-version', ACS_API_VERSION);
        request = c.createRequest({ url: url.toString(), method: 'GET', timeout: 5000 });
      }
      let response;
      try {
        response = await c.send(request);
      } catch (error) {
        throw toGatewayError(error);
      }
      if (response.status === 401 || response.status === 403) {
        throw new GatewayError(
          `ACS refused the app's credentials (HTTP ${response.status}) on ${from ? 'an opt-out check' : 'a delivery report lookup'}`,
          {
            transient: false,
            uncertain: false,
            status: response.status,
          },
        );
      }
    },
  };
}

async function buildClients(acs: Config['acs']): Promise<Clients> {
  const [{ SmsClient }, common, pipeline] = await Promise.all([
    import('@azure/communication-sms'),
    import('@azure/communication-common'),
    import('@azure/core-rest-pipeline'),
  ]);
  const insecure = acs.endpoint.startsWith('http://');
  // The pipeline retries on its own terms (re-enqueue with backoff), never inside one invocation.
  // apiVersion is not in SmsClientOptions' type, but SmsClient's generated client honours it.
  const clientOptions = {
    apiVersion: ACS_API_VERSION,
    retryOptions: { maxRetries: 0 },
    allowInsecureConnection: insecure,
    additionalPolicies: [
      { policy: repeatabilityPolicy, position: 'perCall' as const },
      { policy: traceparentPolicy, position: 'perCall' as const },
    ],
  };
  let sms: InstanceType<typeof SmsClient>;
  let credential: import('@azure/core-auth').KeyCredential | import('@azure/core-auth').TokenCredential;
  if (acs.kind === 'connectionString') {
    sms = new SmsClient(acs.connectionString, clientOptions);
    const parsed = common.parseConnectionString(acs.connectionString);
    credential = parsed.credential;
  } else {
    const { DefaultAzureCredential } = await import('@azure/identity');
    credential = new DefaultAzureCredential(acs.clientId ? { managedIdentityClientId: acs.clientId } : {});
    sms = new SmsClient(acs.endpoint, credential, clientOptions);
  }
  const raw = pipeline.createPipelineFromOptions({ retryOptions: { maxRetries: 0 } });
  raw.addPolicy(common.createCommunicationAuthPolicy(credential));
  const httpClient = pipeline.createDefaultHttpClient();
  return {
    sms,
    endpoint: acs.endpoint,
    createRequest: (init) => pipeline.createPipelineRequest({ ...init, allowInsecureConnection: insecure }),
    send: (request) => raw.sendRequest(httpClient, request),
  };
}

/**
 * ACS's verdict per recipient, with the message id exactly as ACS returned it (GET
 * /deliveryReports/{id} is asked for that form; ids are matched by their key). A repeated
 * repeatability id comes back either as the original item (202, successful, same messageId) or as
 * 409 with the original messageId: both mean "sent by an earlier try". A 412 (first-sent outside a
 * window) is mapped for completeness only: it is published for ACS Email and Rooms, not for SMS,
 * whose examples accept a first-sent years old (acsFacts.ts REPEATABILITY), so nothing relies on it.
 */
export function toRecipientResult(r: {
  to: string;
  messageId?: string;
  httpStatusCode: number;
  successful: boolean;
  errorMessage?: string;
  repeatabilityResult?: string;
}): GatewayRecipientResult {
  const acsMessageId = r.messageId ? { acsMessageId: r.messageId } : {};
  if (r.successful) return { to: r.to, outcome: 'accepted', repeated: r.repeatabilityResult === 'rejected', ...acsMessageId };
  const status = r.httpStatusCode;
  if (status === 409 && r.messageId) return { to: r.to, outcome: 'accepted', repeated: true, ...acsMessageId };
  if (status === 412) {
    return {
      to: r.to,
      outcome: 'rejected',
      code: '412',
      message: r.errorMessage ?? 'repeatability window expired',
      transient: false,
      outsideRepeatabilityWindow: true,
    };
  }
  return {
    to: r.to,
    outcome: 'rejected',
    code: String(status),
    message: r.errorMessage ?? `ACS refused the recipient with status ${status}`,
    transient: status === 429 || status >= 500,
  };
}

function retryAfter(header: string | undefined | null): { retryAfterMs?: number } {
  const ms = parseRetryAfter(header);
  return ms === undefined ? {} : { retryAfterMs: ms };
}

/** Sorts an SDK failure into transient or permanent, and certain or uncertain. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const e = error as {
    name?: string;
    code?: string;
    statusCode?: number;
    message?: string;
    response?: { headers?: { get(n: string): string | undefined } };
  };
  if (typeof e.statusCode === 'number') {
    const status = e.statusCode;
    const transient = status === 408 || status === 429 || status >= 500;
    return new GatewayError(`ACS answered ${status}`, {
      transient,
      // A 5xx may come after ACS accepted the request; 4xx (and 429) mean it was not processed.
      uncertain: status >= 500,
      status,
      ...retryAfter(e.response?.headers?.get('retry-after')),
    });
  }
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || /timed? ?out|aborted/i.test(e.message ?? '')) {
    return new GatewayError('ACS request timed out', { transient: true, uncertain: true });
  }
  const code = e.code ?? '';
  // A refused connection never reached ACS; a reset one may have.
  return new GatewayError(`ACS unreachable${code ? ` (${code})` : ''}`, { transient: true, uncertain: !neverSent(error) });
}

/** Reads the GET /deliveryReports/{id} body, tolerant of casing. */
export function parseDeliveryReport(acsMessageId: string, text: string): GatewayDeliveryReport {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new GatewayError('ACS delivery report is not JSON', { transient: true, uncertain: false });
  }
  const pick = (name: string): unknown => body[name] ?? body[name[0]!.toUpperCase() + name.slice(1)];
  const status = String(pick('deliveryStatus') ?? '').toLowerCase();
  const attempts = pick('deliveryAttempts');
  // The GET example writes "2000: No Error"; the code decides what a failure means (4007 is an
  // opt-out at the carrier), and the same reader takes every other form (deliveryStatusDetails.ts).
  const details = readStatusDetails(pick('deliveryStatusDetails'));
  return {
    acsMessageId,
    status: status === 'delivered' ? 'delivered' : status === 'failed' ? 'failed' : 'pending',
    ...details,
    ...(Array.isArray(attempts)
      ? {
          deliveryAttempts: attempts.map((a: Record<string, unknown>) => ({
            timestamp: String(a.timestamp ?? a.Timestamp ?? ''),
            segmentsSucceeded: Number(a.segmentsSucceeded ?? a.SegmentsSucceeded ?? 0),
            segmentsFailed: Number(a.segmentsFailed ?? a.SegmentsFailed ?? 0),
          })),
        }
      : {}),
    ...(pick('receivedTimestamp') ? { receivedAt: String(pick('receivedTimestamp')) } : {}),
  };
}
