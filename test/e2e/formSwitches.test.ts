// Every form the ACS emulator can write — each one Microsoft has published somewhere (docs/acs-emulator.md)
// — through the whole pipeline: per switch, a delivered message, a 4005 and a 4007 failure (the
// latter an opt-out at the carrier) and an inbound text, each ending where it should. The default
// run exercises one combination of forms; these keep the others honest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AcsEmulatorConfigPatch, SubscriberOptions } from '../../local/acsEmulator/server.js';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

const SENDER = '+18005550199';
let stack: TestStack;
let handsets = 0;
const handset = () => `+1720555${String(1000 + ++handsets)}`;

beforeAll(async () => {
  stack = await startTestStack({
    env: { SMS_SENDERS: JSON.stringify([{ number: SENDER, type: 'shortCode', ratePerMinute: 60000 }]) },
  });
});

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const webhook = (name: string) => `${stack.hostUrl}/runtime/webhooks/EventGrid?functionName=${name}`;

/** Subscribes both functions again, in `schema` (the CloudEvents one runs its OPTIONS handshake against the host). */
async function subscribe(schema: NonNullable<SubscriberOptions['schema']>): Promise<void> {
  for (const [name, type] of [
    ['deliveryReports', 'Microsoft.Communication.SMSDeliveryReportReceived'],
    ['inboundSms', 'Microsoft.Communication.SMSReceived'],
  ] as const) {
    stack.emulator.removeSubscriber(webhook(name));
    await stack.emulator.addSubscriber(webhook(name), { eventTypes: [type], schema });
  }
}

const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** The id form POST /sms answers on 2026-01-23, the version the pipeline sends on: no prefix. */
const BARE = new RegExp(`^\\d{14}${GUID}$`);

/** [name, emulator settings, subscription schema, the form of the id the send returns]. */
const cases: Array<[string, AcsEmulatorConfigPatch, SubscriberOptions['schema'] | undefined, RegExp]> = [
  ['the published defaults', {}, undefined, BARE],
  ['the published defaults, CloudEvents subscriptions', {}, 'CloudEventSchemaV1_0', BARE],
  ['numbers with "+" in events', { forms: { eventNumbers: 'plus' } }, undefined, BARE],
  [
    'ids ending in _prod_nam',
    { forms: { messageIds: { send: 'outgoing', suffix: '_prod_nam' } } },
    undefined,
    /^Outgoing_.*_prod_nam$/,
  ],
  [
    'ids without a suffix',
    { forms: { messageIds: { send: 'outgoing', suffix: 'none' } } },
    undefined,
    new RegExp(`^Outgoing_\\d{14}${GUID}$`),
  ],
  ['events carrying the id exactly as sent', { forms: { messageIds: { events: 'asSent' } } }, undefined, BARE],
  ['bare GUIDs as ids', { forms: { messageIds: { send: 'guid' } } }, undefined, new RegExp(`^${GUID}$`)],
  [
    'regional ids (2024-12-10-preview)',
    { forms: { messageIds: { send: 'regional' } } },
    undefined,
    /_prod_eur_\w+_outgoing-mms$/,
  ],
  ['coded details in events', { forms: { deliveryStatusDetails: { events: 'coded' } } }, undefined, BARE],
  ['"Tag" capitalised', { forms: { tagProperty: 'Tag' } }, undefined, BARE],
  ['PascalCase data', { forms: { dataCasing: 'pascal' } }, undefined, BARE],
  ['CloudEvents with "specVersion"', { forms: { cloudEventsSpecVersionKey: 'specVersion' } }, 'CloudEventSchemaV1_0', BARE],
  ['one event per delivery', { eventGrid: { maxEventsPerBatch: 1 } }, undefined, BARE],
  ['batches of up to 50 events', { eventGrid: { maxEventsPerBatch: 50 } }, undefined, BARE],
];

describe('every emulator form through the pipeline', () => {
  it.each(cases)('%s', async (_name, patch, schema, idForm) => {
    const [ok, blocked, optedOut, writer] = [handset(), handset(), handset(), handset()];
    stack.emulator.reset();
    stack.emulator.configure({
      ...patch,
      deliveryReports: { delayMs: 50 },
      faults: { handsets: { [blocked]: { kind: 'failed', code: 4005 }, [optedOut]: { kind: 'failed', code: 4007 } } },
    });
    expect(stack.emulator.config()).toMatchObject(patch);
    if (schema) await subscribe(schema);
    const logged = stack.emulator.eventDeliveries().length;
    try {
      const response = await stack.postMessages({ to: [ok, blocked, optedOut], message: 'Form drill', from: SENDER });
      expect(response.status).toBe(202);
      const { messages } = (await response.json()) as { messages: Array<{ messageId: string; to: string }> };
      type View = { status: string; acsMessageId?: string; error?: { code: string } };
      const views = await waitFor(
        async () => {
          const all = await Promise.all(
            messages.map(async (m) => (await (await stack.api(`messages/${m.messageId}`)).json()) as View),
          );
          return all.every((v) => v.status === 'delivered' || v.status === 'failed') ? all : undefined;
        },
        30_000,
        'all final',
      );
      expect(views.map((v) => [v.status, v.error?.code])).toEqual([
        ['delivered', undefined],
        ['failed', '4005'],
        ['failed', '4007'],
      ]);
      // The id is kept exactly as the send returned it, whatever form the events gave it.
      for (const v of views) expect(v.acsMessageId).toMatch(idForm);
      const batches = stack.emulator
        .eventDeliveries()
        .slice(logged)
        .map((d) => d.batchSize ?? 1);
      if (patch.eventGrid?.maxEventsPerBatch === 1) expect(Math.max(...batches)).toBe(1);
      const status = (await (await stack.api(`opt-outs/${encodeURIComponent(optedOut)}`)).json()) as {
        senders: Array<{ sender: string; optedOut: boolean; source?: string }>;
      };
      expect(status.senders.find((s) => s.sender === SENDER)).toMatchObject({ optedOut: true, source: 'carrier' });

      await stack.emulator.injectInbound({ from: writer, to: SENDER, message: 'Form drill reply' });
      await waitFor(
        async () => {
          const thread = (await (
            await stack.api(`conversations/${encodeURIComponent(writer)}?from=${encodeURIComponent(SENDER)}`)
          ).json()) as {
            messages?: Array<{ direction: string; body: string }>;
          };
          return thread.messages?.some((m) => m.direction === 'inbound' && m.body === 'Form drill reply') ? true : undefined;
        },
        20_000,
        'the inbound text in the conversation',
      );
      // Nothing was left for the reconciler: every report found its message at once.
      expect(stack.logs.filter((l) => l.includes('delivery report for an unknown message'))).toEqual([]);
    } finally {
      if (schema) await subscribe('EventGridSchema');
    }
  });
});
