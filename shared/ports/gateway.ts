// ACS SMS as the pipeline sees it: one request of up to 100 recipients, per-recipient verdicts,
// delivery reports on demand, and ACS's own opt-out list.
import type { CodeSource } from '../domain/deliveryStatusDetails.js';
import type { DeliveryAttempt } from '../domain/message.js';

/** One recipient of an ACS send request. */
export interface GatewayRecipient {
  to: string;
  messageId: string;
  /** Same for every try of this message, so ACS refuses a repeat. */
  repeatabilityRequestId: string;
  /** RFC 1123 time of the first try with that id. */
  repeatabilityFirstSent: string;
}

export interface GatewaySendRequest {
  from: string;
  message: string;
  recipients: readonly GatewayRecipient[];
  deliveryReport: boolean;
  /** Echoed by ACS in delivery reports; the pipeline puts the batch id here. */
  tag?: string;
}

/** ACS's verdict for one recipient of a request that ACS answered with 202. */
export type GatewayRecipientResult =
  | {
      to: string;
      outcome: 'accepted';
      /** Exactly as ACS returned it (matched by its key, domain/ids.ts); absent when ACS did not return one. */
      acsMessageId?: string;
      /** ACS had already accepted this repeatability id: nothing was sent again. */
      repeated: boolean;
    }
  | {
      to: string;
      outcome: 'rejected';
      /** HTTP-style status ACS gave this recipient, e.g. "400". */
      code: string;
      message: string;
      /** True for per-recipient 429/5xx: worth another try. */
      transient: boolean;
      /**
       * ACS refused because the repeatability first-sent time is outside its window: an earlier
       * try may or may not have sent the message, so it must not be sent again. A 412 rule
       * published for ACS Email and Rooms only; nothing relies on ACS SMS ever answering it.
       */
      outsideRepeatabilityWindow?: boolean;
    };

/** A whole ACS request failed. */
export class GatewayError extends Error {
  constructor(
    message: string,
    readonly details: {
      /** 429, 5xx, timeouts and network errors are transient; other 4xx are not. */
      transient: boolean;
      /** True when ACS may have processed the request (timeout, 5xx, connection reset). */
      uncertain: boolean;
      /** HTTP status, when there was a response. */
      status?: number;
      /** From Retry-After, when present. */
      retryAfterMs?: number;
    },
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

/** A delivery report fetched from ACS on demand (reconciliation). */
export interface GatewayDeliveryReport {
  acsMessageId: string;
  status: 'delivered' | 'failed' | 'pending';
  code?: string;
  codeSource?: CodeSource;
  /** deliveryStatusDetails as ACS wrote it. */
  detail?: string;
  deliveryAttempts?: DeliveryAttempt[];
  receivedAt?: string;
}

/** ACS SMS. */
export interface SmsGateway {
  /** Sends one request of up to 100 recipients; per-recipient results are returned, not thrown. */
  send(request: GatewaySendRequest): Promise<GatewayRecipientResult[]>;
  /** GET /deliveryReports/{id}; undefined when ACS does not know the id. */
  getDeliveryReport(acsMessageId: string): Promise<GatewayDeliveryReport | undefined>;
  /**
   * Adds a recipient to, or removes one from, ACS's own opt-out list for `from`
   * (POST /sms/optouts:add|remove). Throws GatewayError when ACS refuses or cannot be reached.
   */
  setOptOut(action: 'add' | 'remove', from: string, to: string): Promise<void>;
  /**
   * Proves ACS answers, and, given one of our numbers, that it accepts our credentials for SMS: a
   * refusal (401/403) throws GatewayError with that status. Sends nothing.
   */
  ping(from?: string): Promise<void>;
}
