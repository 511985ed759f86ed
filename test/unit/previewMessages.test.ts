import { describe, expect, it } from 'vitest';
import { mergePrices } from '../../shared/domain/pricing.js';
import { previewResponse, previewView } from '../../shared/http/messagePreview.js';
import { submitMessagesBody, type SubmitMessagesBody } from '../../shared/http/messages.js';
import { previewMessages as plan, type PreviewDeps } from '../../shared/pipeline/previewMessages.js';
import {
  FakeClock,
  FakeMessageStore,
  FakeOptOuts,
  FakeQueue,
  FakeTemplates,
  sendRuleDeps,
  shortCode,
  tollFree,
} from '../support/fakes.js';
import { FakeLinkStore, TEST_LINK_POLICY } from '../support/linkFakes.js';

function setup() {
  const optOuts = new FakeOptOuts();
  const templates = new FakeTemplates();
  const deps: PreviewDeps = {
    optOuts,
    clock: new FakeClock(),
    senders: [tollFree, shortCode],
    maxSegments: 10,
    allowedCountries: new Set(['US', 'CA']),
    templates,
    prices: mergePrices(),
    links: new FakeLinkStore(),
    linkPolicy: TEST_LINK_POLICY,
    ...sendRuleDeps(),
  };
  return { deps, optOuts, templates };
}

const body = (value: unknown) => submitMessagesBody.parse(value);

/** The dry run as the API answers it. */
async function previewMessages(deps: PreviewDeps, request: SubmitMessagesBody) {
  const result = await plan(deps, request);
  return result.kind === 'preview' ? { kind: 'preview' as const, response: previewView(result.preview) } : result;
}

describe('previewMessages', () => {
  it('answers encoding, segments, the smart-encoded text, sender and opt-out verdict per recipient', async () => {
    const { deps, optOuts } = setup();
    await optOuts.add({ sender: '*', recipient: '+14255550124', source: 'keyword', at: '2026-11-01T00:00:00Z' });
    const result = await previewMessages(
      deps,
      body({ to: ['+1 (425) 555-0123', '+14255550124', '+14255550123'], message: 'It’s “on”' }),
    );
    expect(result.kind).toBe('preview');
    if (result.kind !== 'preview') return;
    const p = result.response;
    expect(previewResponse.safeParse(p).success).toBe(true);
    expect(p).toMatchObject({ text: 'It\'s "on"', textChanged: true, encoding: 'GSM-7', segments: 1 });
    expect(p.recipients).toEqual([
      { to: '+14255550123', from: expect.any(String), optedOut: false, status: 'queued' },
      { to: '+14255550124', from: expect.any(String), optedOut: true, status: 'suppressed' },
    ]);
    expect(p.totals).toEqual({
      recipients: 2,
      sendable: 1,
      suppressed: 1,
      rejected: 0,
      segments: 1,
      distinctTexts: 1,
      estimatedCost: 0.0075,
      currency: 'USD',
    });
  });

  it('lists rejected recipients with partial: true, and refuses them without', async () => {
    const { deps } = setup();
    const partial = await previewMessages(deps, body({ to: ['+14255550123', 'nope'], message: 'Hi', partial: true }));
    expect(partial).toMatchObject({
      kind: 'preview',
      response: { rejected: [{ to: 'nope', reason: expect.any(String) }], totals: { rejected: 1 } },
    });
    const strict = await previewMessages(deps, body({ to: ['+14255550123', 'nope'], message: 'Hi' }));
    expect(strict).toMatchObject({ kind: 'invalid', errors: [{ field: 'to[1]' }] });
  });

  it('shows a scheduled send as scheduled, with its validity', async () => {
    const { deps } = setup();
    const result = await previewMessages(
      deps,
      body({ to: '+14255550123', message: 'Later', from: tollFree.number, scheduledAt: '2026-11-26T10:00:00Z', validFor: 3600 }),
    );
    expect(result).toMatchObject({
      kind: 'preview',
      response: {
        scheduledAt: '2026-11-26T10:00:00.000Z',
        expiresAt: '2026-11-26T11:00:00.000Z',
        recipients: [{ from: tollFree.number, status: 'scheduled' }],
      },
    });
  });

  it('writes and enqueues nothing', async () => {
    const { deps } = setup();
    const messages = new FakeMessageStore();
    const queue = new FakeQueue();
    await previewMessages({ ...deps, messages, queue } as typeof deps, body({ to: '+14255550123', message: 'x'.repeat(500) }));
    expect(messages.rows.size).toBe(0);
    expect(queue.jobs).toHaveLength(0);
  });
});
