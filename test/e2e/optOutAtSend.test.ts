// STOP while messages wait: 100 messages to one person queue up behind a toll-free number's pace;
// the person texts STOP (injected at the emulator, recorded by the inboundSms function). From the
// moment the STOP is recorded nothing more is handed to ACS for them, and every message still
// waiting ends `suppressed`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../support/localStack.js';

// Paced at 60/min: 100 messages take over a minute and a half, so on a busy machine too most are
// still waiting when the STOP is recorded (at 200/min, a slow inbound delivery let 57 go first).
const TOLL_FREE = '+18005550100';
const PERSON = '+14255550142';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    // 100 texts to one person within a minute would look like a burst to its number block to the
    // pumping watch (docs/security.md), which would hold them: this test is about STOP, so it is off.
    env: {
      SMS_SENDERS: JSON.stringify([{ number: TOLL_FREE, type: 'tollFree', ratePerMinute: 60 }]),
      SMS_PUMPING_PROTECTION: '{"enabled":false}',
    },
    emulator: { deliveryReports: { delayMs: 50 } },
  });
});

afterAll(async () => {
  await stack?.stop();
});

interface MessageView {
  status: string;
  error?: { code: string; message: string };
  history: Array<{ status: string; reason?: string }>;
}

describe('STOP recorded while messages are queued', () => {
  it('hands nothing more to ACS after the STOP is recorded; the waiting messages end suppressed', async () => {
    const texts = Array.from({ length: 100 }, (_, i) => `Reminder ${i + 1} of 100`);
    const ids: string[] = [];
    // Ten requests at a time: on a busy machine, one by one took long enough for the pace to send
    // most of them before the STOP, and the drill needs most still waiting.
    for (let i = 0; i < texts.length; i += 10) {
      const chunk = await Promise.all(
        texts.slice(i, i + 10).map(async (message) => {
          const response = await stack.postMessages({ to: PERSON, message, from: TOLL_FREE });
          expect(response.status).toBe(202);
          return ((await response.json()) as { messages: Array<{ messageId: string }> }).messages[0]!.messageId;
        }),
      );
      ids.push(...chunk);
    }
    const ours = () => stack.emulator.sends().filter((s) => s.to === PERSON && s.message.startsWith('Reminder '));

    await waitFor(async () => (ours().filter((s) => s.sent).length >= 5 ? true : undefined), 30_000, 'the first messages sent');
    const stopInjectedAt = Date.now();
    const inboundId = await stack.emulator.injectInbound({ from: PERSON, to: TOLL_FREE, message: 'STOP' });
    // Recorded once the inboundSms function has answered the Event Grid delivery.
    for (;;) {
      const delivery = stack.emulator
        .eventDeliveries()
        .find((d) => d.eventId === inboundId && d.url.includes('functionName=inboundSms'));
      if (delivery?.status === 'delivered') break;
      if (delivery?.status === 'failed' || Date.now() - stopInjectedAt > 15_000)
        throw new Error(`STOP not recorded: ${JSON.stringify(delivery)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const stopRecordedAt = Date.now();
    const sentBeforeStop = ours().length;
    expect(sentBeforeStop).toBeLessThan(50); // most were still waiting

    // Every message reaches a final status. They end about in the order they were sent, so each
    // look asks only until the first still on its way (asking for all hundred every second cost
    // the stack more CPU than the drill itself).
    const final = new Map<string, MessageView>();
    const views = await waitFor(
      async () => {
        for (const id of ids) {
          if (final.has(id)) continue;
          const v = (await (await stack.api(`messages/${id}`)).json()) as MessageView;
          if (!['delivered', 'failed', 'suppressed'].includes(v.status)) return undefined;
          final.set(id, v);
        }
        return ids.map((id) => final.get(id)!);
      },
      150_000,
      'every message final',
    );

    // Nothing was handed to ACS after the STOP was recorded — except a hand-over already under way:
    // the check and its request are a few storage writes apart, so one decided an instant before
    // the STOP may arrive an instant after. Before the check moved behind the pacing wait, messages
    // kept arriving for up to five seconds.
    const arrived = (s: { receivedAt: string }) => Date.parse(s.receivedAt) - stopRecordedAt;
    const underWay = ours().filter((s) => arrived(s) >= 0 && arrived(s) < 1000);
    const late = ours().filter((s) => arrived(s) >= 1000);
    expect(late.map((s) => `${s.message} at ${s.receivedAt}`)).toEqual([]);
    expect(underWay.length).toBeLessThanOrEqual(3); // at most one burst of the number
    // Nothing reached the handset after the STOP.
    const inbox = stack.emulator.inbox(PERSON).filter((m) => m.message.startsWith('Reminder '));
    expect(inbox.filter((m) => Date.parse(m.receivedAt) >= stopInjectedAt)).toEqual([]);

    // Each message was either handed over before the STOP, or suppressed without ever reaching ACS.
    const handedOver = new Set(ours().map((s) => s.message));
    let suppressed = 0;
    views.forEach((v, i) => {
      if (handedOver.has(texts[i]!)) {
        expect(v.status, texts[i]).not.toBe('suppressed');
      } else {
        expect(v.status, texts[i]).toBe('suppressed');
        expect(v.history.at(-1)?.reason).toMatch(/opted out/);
        suppressed++;
      }
    });
    expect(suppressed).toBeGreaterThanOrEqual(50);
    expect(suppressed + handedOver.size).toBe(100);
  }, 300_000);
});
