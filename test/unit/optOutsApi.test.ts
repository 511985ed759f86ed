// The opt-out API's use cases: status per sender and overall, PUT/DELETE with the consent log and
// events, listing and CSV export, and the consent history.
import { beforeEach, describe, expect, it } from 'vitest';
import { optOutsCsv } from '../../shared/http/optOuts.js';
import type { ConsentDeps } from '../../shared/pipeline/consent.js';
import { addOptOut, consentHistory, getOptOutStatus, listOptOuts, removeOptOut } from '../../shared/pipeline/optOuts.js';
import type { EventPublisher } from '../../shared/ports/events.js';
import {
  FakeClock,
  FakeConsentLog,
  FakeGateway,
  FakeOptOuts,
  FakeOutbox,
  shortCode,
  silentLogger,
  tollFree,
} from '../support/fakes.js';

const PERSON = '+14255550123';
let clock: FakeClock;
let optOuts: FakeOptOuts;
let consentLog: FakeConsentLog;
let outbox: FakeOutbox;
let deps: ConsentDeps & { publisher: EventPublisher };

beforeEach(() => {
  clock = new FakeClock();
  optOuts = new FakeOptOuts();
  consentLog = new FakeConsentLog();
  outbox = new FakeOutbox();
  deps = {
    optOuts,
    consentLog,
    clock,
    log: silentLogger,
    senders: [tollFree, shortCode],
    eventSource: '/test',
    publisher: outbox,
    mirror: null,
  };
});

describe('status', () => {
  it('says per sender whether the person is opted out, and why; overall too', async () => {
    expect(await getOptOutStatus(deps, PERSON)).toEqual({
      phone: PERSON,
      optedOutEverywhere: false,
      pool: { optedOut: false },
      senders: [
        { sender: tollFree.number, type: 'tollFree', optedOut: false },
        { sender: shortCode.number, type: 'shortCode', optedOut: false },
      ],
    });
    await optOuts.add({
      sender: shortCode.number,
      recipient: PERSON,
      source: 'keyword',
      keyword: 'STOP',
      inboundMessageId: 'in-1',
      at: '2026-11-20T00:00:00.000Z',
    });
    const status = await getOptOutStatus(deps, PERSON);
    expect(status.optedOutEverywhere).toBe(false);
    expect(status.senders[1]).toEqual({
      sender: shortCode.number,
      type: 'shortCode',
      optedOut: true,
      via: 'sender',
      since: '2026-11-20T00:00:00.000Z',
      source: 'keyword',
      keyword: 'STOP',
      inboundMessageId: 'in-1',
    });
    await optOuts.add({
      sender: '*',
      recipient: PERSON,
      source: 'api',
      reason: 'asked by phone',
      at: '2026-11-21T00:00:00.000Z',
    });
    const all = await getOptOutStatus(deps, PERSON);
    expect(all.optedOutEverywhere).toBe(true);
    expect(all.pool).toMatchObject({ optedOut: true, source: 'api', reason: 'asked by phone' });
    expect(all.senders[0]).toMatchObject({ optedOut: true, via: 'pool' });
  });
});

describe('PUT and DELETE', () => {
  it('PUT opts out of the whole pool by default, with its reason in the consent log and an event; repeating it changes nothing', async () => {
    const first = await addOptOut(deps, PERSON, { reason: 'asked by e-mail' });
    expect(first.kind).toBe('done');
    if (first.kind !== 'done') return;
    expect(first.result.optedOutEverywhere).toBe(true);
    expect(first.result.changes).toEqual([
      expect.objectContaining({
        action: 'optOut',
        sender: '*',
        recipient: PERSON,
        source: 'api',
        reason: 'asked by e-mail',
        applied: true,
      }),
    ]);
    expect(outbox.published.map((e) => e.type)).toEqual(['sms.optout.added']);
    const again = await addOptOut(deps, PERSON, { reason: 'asked by e-mail' });
    expect(again.kind === 'done' && again.result.changes).toEqual([]);
    expect(consentLog.entries).toHaveLength(1);
    expect(outbox.published).toHaveLength(1);
  });

  it('PUT for one number only, and refuses a number outside the pool', async () => {
    const one = await addOptOut(deps, PERSON, { from: shortCode.number, reason: 'support ticket 17' });
    expect(one.kind === 'done' && one.result.senders.map((s) => s.optedOut)).toEqual([false, true]);
    expect(await addOptOut(deps, PERSON, { from: '+19995550100', reason: 'x' })).toMatchObject({
      kind: 'invalid',
      field: 'from',
    });
  });

  it('DELETE lifts one opt-out, or every one, each a consent log entry and an sms.optout.removed', async () => {
    await addOptOut(deps, PERSON, { reason: 'a' });
    await addOptOut(deps, PERSON, { from: shortCode.number, reason: 'b' });
    clock.advance(1000);
    const one = await removeOptOut(deps, PERSON, { from: '*', reason: 'asked again' });
    expect(one.kind === 'done' && one.result.changes.map((c) => [c.action, c.sender])).toEqual([['optIn', '*']]);
    expect(one.kind === 'done' && one.result.senders.map((s) => s.optedOut)).toEqual([false, true]);
    clock.advance(1000);
    const rest = await removeOptOut(deps, PERSON, {});
    expect(rest.kind === 'done' && rest.result.changes.map((c) => c.sender)).toEqual([shortCode.number]);
    expect(optOuts.entries.size).toBe(0);
    expect(outbox.published.map((e) => e.type)).toEqual([
      'sms.optout.added',
      'sms.optout.added',
      'sms.optout.removed',
      'sms.optout.removed',
    ]);
    const history = await consentHistory(deps, PERSON, { limit: 10 });
    expect(history.entries.map((e) => `${e.action}:${e.sender}`)).toEqual([
      'optOut:*',
      `optOut:${shortCode.number}`,
      'optIn:*',
      `optIn:${shortCode.number}`,
    ]);
  });

  it('mirrors to ACS when asked to, and reports a failure without failing', async () => {
    const gateway = new FakeGateway();
    deps.mirror = gateway;
    gateway.optOutFailures = 1;
    const result = await addOptOut(deps, PERSON, { reason: 'x' });
    expect(result.kind === 'done' && result.result.acsMirror?.map((m) => m.ok).sort()).toEqual([false, true]);
    expect(gateway.optOutCalls).toHaveLength(1);
  });
});

describe('list and export', () => {
  it('pages in key order and writes CSV that a spreadsheet does not execute', async () => {
    for (let i = 0; i < 5; i++) {
      await optOuts.add({
        sender: shortCode.number,
        recipient: `+1425555000${i}`,
        source: 'api',
        reason: i === 2 ? '=HYPERLINK("x")' : 'said "no", twice',
        at: '2026-11-25T10:00:00.000Z',
      });
    }
    const first = await listOptOuts(deps, { from: shortCode.number, limit: 3 });
    expect(first.items).toHaveLength(3);
    const second = await listOptOuts(deps, { from: shortCode.number, limit: 3, continuationToken: first.continuationToken! });
    expect(second.items).toHaveLength(2);
    expect(second.continuationToken).toBeUndefined();

    const csv = optOutsCsv(first.items);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('sender,recipient,source,keyword,reason,inboundMessageId,at');
    expect(lines[1]).toBe(`${shortCode.number},+14255550000,api,,"said ""no"", twice",,2026-11-25T10:00:00.000Z`);
    expect(lines[3]).toBe(`${shortCode.number},+14255550002,api,,"'=HYPERLINK(""x"")",,2026-11-25T10:00:00.000Z`);
  });
});
