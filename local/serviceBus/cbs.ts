// Claims-based security for the Service Bus stand-in: the $cbs node's put-token, and the claims a
// connection holds afterwards, which decide whether it may attach to a queue, its dead-letter queue
// or its $management node.
//
// The protocol guide (MicrosoftDocs/azure-docs articles/service-bus-messaging/
// service-bus-amqp-protocol-guide.md, "Claims-based authorization"): a put-token request carries
// application properties operation=put-token, type (servicebus.windows.net:sastoken for a SAS token),
// name = the audience, and the token as an AMQP string body; the reply carries status-code (an HTTP
// code) and status-description; tokens are scoped to the connection. The SDK sends exactly that
// (Azure/azure-sdk-for-js sdk/core/core-amqp/src/cbs.ts negotiateClaim) and, on a status outside
// 2xx, raises the error core-amqp maps the status to: 401 → amqp:unauthorized-access →
// UnauthorizedError, which @azure/service-bus reports as code "UnauthorizedAccess"
// (serviceBusError.ts). A success is answered 202 Accepted; the SDK takes any 2xx, Microsoft's AMQP.NET
// Lite CBS sample (Azure/amqpnetlite Examples/ServiceBus/Scenarios/CbsAsyncExample.cs) accepts 202 or
// 200, and the rhea proxy in Azure/azure-service-bus-emulator-installer (proxy/src/cbs-handler.ts) says 200.
//
// Every SAS policy of the stand-in has Manage, Send and Listen rights (like RootManageSharedAccessKey).
import type { Message } from 'rhea';
import { resourcePath, verifySasToken, type SharedAccessPolicy } from './sas.js';
import { amqpInt } from './wire.js';

export const SAS_TOKEN_TYPE = 'servicebus.windows.net:sastoken';

/** What one connection has been granted: audience path → expiry (ms). */
export class ConnectionClaims {
  private readonly granted = new Map<string, number>();

  grant(audience: string, expiresAt: number): void {
    this.granted.set(resourcePath(audience).path, expiresAt);
  }

  /** SASL PLAIN with the namespace's key name and key: the whole namespace, for clients without CBS. */
  grantNamespace(): void {
    this.granted.set('', Number.POSITIVE_INFINITY);
  }

  /** Whether a token covers this entity path (a queue, `q/$DeadLetterQueue`, `q/$management` …). */
  allows(entityPath: string, now: number): boolean {
    const path = entityPath.replace(/^\/+|\/+$/g, '').toLowerCase();
    for (const [granted, expiresAt] of this.granted) {
      if (expiresAt <= now) continue;
      if (granted === '' || path === granted || path.startsWith(`${granted}/`)) return true;
    }
    return false;
  }
}

/** Answers one request to $cbs; a valid token adds its audience to the connection's claims. */
export function handleCbsRequest(
  request: Message,
  claims: ConnectionClaims,
  policy: SharedAccessPolicy,
  now: number,
  log: (line: string) => void,
): Message {
  const properties = request.application_properties ?? {};
  const answer = (status: number, description: string): Message =>
    ({
      correlation_id: request.message_id,
      application_properties: { 'status-code': amqpInt(status), 'status-description': description },
      body: undefined,
    }) as Message;

  if (properties.operation !== 'put-token') return answer(400, `Unsupported CBS operation '${String(properties.operation)}'.`);
  const audience = String(properties.name ?? '');
  if (properties.type !== SAS_TOKEN_TYPE) {
    log(`[service-bus] put-token for ${audience} refused: token type ${String(properties.type)}`);
    return answer(
      401,
      `This development stand-in accepts only ${SAS_TOKEN_TYPE} tokens (a connection string with a key), not '${String(properties.type)}'.`,
    );
  }
  const verdict = verifySasToken(request.body, audience, policy, now);
  if (!verdict.ok) {
    log(`[service-bus] put-token for ${audience} refused: ${verdict.description}`);
    return answer(401, verdict.description);
  }
  claims.grant(audience, verdict.expiresAt);
  return answer(202, 'Accepted');
}
