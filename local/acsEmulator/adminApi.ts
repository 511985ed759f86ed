// The emulator's own HTTP API under /emulator: inspection, injection (inbound texts, subscribers)
// and runtime configuration. No authentication, so it answers loopback clients only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { EVENT_GRID } from '../../shared/domain/acsFacts.js';
import { BodyTooLargeError, isLoopback, parseJson, readBody, sendJson, sendProblem } from './http.js';
import { normalizeHandset } from './phoneNumbers.js';
import { issuesToFieldErrors, SettingsError } from './settings.js';
import { InboundError } from './smsService.js';
import type { AcsEmulator } from './server.js';

const inboundSchema = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  message: z.string().min(1).max(2048),
});

const subscriptionSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  validate: z.boolean().optional(),
  name: z.string().min(1).max(64).optional(),
  eventTypes: z.array(z.string().min(1)).min(1).optional(),
  /** Event Grid's eventDeliverySchema: the handshake and the body follow it. */
  schema: z.enum(['EventGridSchema', 'CloudEventSchemaV1_0']).optional(),
  /** Events per POST for this subscription (Event Grid: 1–5000). */
  maxEventsPerBatch: z.number().int().min(1).max(EVENT_GRID.maxEventsPerBatchLimit).optional(),
});

async function readJson(req: IncomingMessage, res: ServerResponse): Promise<{ ok: true; value: unknown } | { ok: false }> {
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) sendProblem(res, 413, 'body-too-large', error.message);
    else res.destroy();
    return { ok: false };
  }
  const parsed = parseJson(body);
  if (!parsed.ok) {
    sendProblem(res, 400, 'invalid-json', `The body is not valid JSON: ${parsed.message}`);
    return { ok: false };
  }
  return { ok: true, value: parsed.value };
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, res: ServerResponse): T | undefined {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const errors = issuesToFieldErrors(result.error.issues);
  sendProblem(res, 400, 'validation-failed', `Invalid request body: ${Object.keys(errors).join(', ')}.`, errors);
  return undefined;
}

export async function handleAdminRequest(
  emulator: AcsEmulator,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress)) {
    sendProblem(res, 403, 'loopback-only', 'The emulator admin API answers loopback clients only.');
    return;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname.replace(/\/+$/, '');

  if (method === 'GET' && path === '/emulator/health') {
    sendJson(res, 200, {
      status: 'ok',
      url: emulator.url,
      senders: emulator.config().senders.map((s) => ({ number: s.number, type: s.type })),
      subscribers: emulator.subscribers().length,
      pendingWork: emulator.pendingWork(),
    });
    return;
  }

  if (path === '/emulator/config') {
    if (method === 'GET') {
      sendJson(res, 200, emulator.config());
      return;
    }
    if (method === 'PUT' || method === 'PATCH') {
      const body = await readJson(req, res);
      if (!body.ok) return;
      try {
        emulator.configure((body.value ?? {}) as Parameters<AcsEmulator['configure']>[0]);
      } catch (error) {
        if (error instanceof SettingsError) {
          sendProblem(res, 400, 'invalid-config', `Invalid settings: ${Object.keys(error.errors).join(', ')}.`, error.errors);
          return;
        }
        throw error;
      }
      sendJson(res, 200, emulator.config());
      return;
    }
  }

  if (method === 'POST' && path === '/emulator/reset') {
    emulator.reset();
    sendJson(res, 204, undefined);
    return;
  }

  if (method === 'GET' && path === '/emulator/sends') {
    const from = url.searchParams.get('from');
    const to = url.searchParams.get('to');
    sendJson(
      res,
      200,
      emulator.sends().filter((s) => (!from || s.from === normalizeHandset(from)) && (!to || s.to === normalizeHandset(to))),
    );
    return;
  }

  if (method === 'GET' && path === '/emulator/requests') {
    sendJson(res, 200, emulator.requests());
    return;
  }

  const inbox = /^\/emulator\/handsets\/([^/]+)\/messages$/.exec(path);
  if (method === 'GET' && inbox) {
    let phone: string;
    try {
      phone = decodeURIComponent(inbox[1]!);
    } catch {
      sendProblem(res, 400, 'validation-failed', 'The phone number in the path is not valid URL encoding.', {
        phone: ['invalid encoding'],
      });
      return;
    }
    sendJson(res, 200, emulator.inbox(normalizeHandset(phone)));
    return;
  }

  if (path === '/emulator/inbound') {
    if (method === 'GET') {
      sendJson(res, 200, emulator.inboundMessages());
      return;
    }
    if (method === 'POST') {
      const body = await readJson(req, res);
      if (!body.ok) return;
      const input = parseWith(inboundSchema, body.value, res);
      if (!input) return;
      try {
        const messageId = await emulator.injectInbound({
          ...input,
          from: normalizeHandset(input.from),
          to: normalizeHandset(input.to),
        });
        sendJson(res, 202, { messageId });
      } catch (error) {
        if (error instanceof InboundError) {
          sendProblem(res, 400, 'validation-failed', `${error.field} ${error.message}.`, { [error.field]: [error.message] });
          return;
        }
        throw error;
      }
      return;
    }
  }

  if (path === '/emulator/subscriptions') {
    if (method === 'GET') {
      sendJson(res, 200, emulator.subscribers());
      return;
    }
    if (method === 'POST') {
      const body = await readJson(req, res);
      if (!body.ok) return;
      const input = parseWith(subscriptionSchema, body.value, res);
      if (!input) return;
      try {
        const { url: subscriberUrl, ...subscriberOptions } = input;
        await emulator.addSubscriber(subscriberUrl, subscriberOptions);
      } catch (error) {
        sendProblem(res, 502, 'subscription-validation-failed', error instanceof Error ? error.message : String(error));
        return;
      }
      sendJson(
        res,
        201,
        emulator.subscribers().find((s) => s.url === input.url),
      );
      return;
    }
    if (method === 'DELETE') {
      const target = url.searchParams.get('url');
      if (!target) {
        sendProblem(res, 400, 'validation-failed', 'The url query parameter is required.', { url: ['is required'] });
        return;
      }
      if (!emulator.removeSubscriber(target)) {
        sendProblem(res, 404, 'not-found', `No subscriber ${target}.`);
        return;
      }
      sendJson(res, 204, undefined);
      return;
    }
  }

  if (method === 'GET' && path === '/emulator/subscriptions/validate') {
    // Event Grid's validationUrl, for subscribers that validate by hand.
    const code = url.searchParams.get('code') ?? '';
    if (!emulator.confirmManualValidation(code)) {
      sendProblem(res, 404, 'not-found', 'No subscription validation is waiting for that code.');
      return;
    }
    sendJson(res, 200, { status: 'Webhook successfully validated as a part of the Event Grid subscription' });
    return;
  }

  if (method === 'GET' && path === '/emulator/optouts') {
    sendJson(res, 200, emulator.optOuts());
    return;
  }

  if (method === 'GET' && path === '/emulator/deliveryReports') {
    sendJson(res, 200, emulator.deliveryReports());
    return;
  }

  if (method === 'GET' && path === '/emulator/events') {
    sendJson(res, 200, emulator.eventDeliveries());
    return;
  }

  sendProblem(res, 404, 'not-found', `No emulator endpoint at ${method} ${url.pathname}.`);
}
