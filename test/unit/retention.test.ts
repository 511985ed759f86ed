// Retention's days and the timer's use case on fakes: texts erased after SMS_RETENTION_TEXT_DAYS
// (status, metadata kept), records deleted after SMS_RETENTION_RECORD_DAYS, conversation entries
// after SMS_RETENTION_CONVERSATION_DAYS, each day done once. The Table Storage adapter and its day
// index: test/integration/retention.test.ts.
import { describe, expect, it } from 'vitest';
import { depsOf } from '../../shared/composition.js';
import { ConfigError, loadConfig } from '../../shared/config.js';
import { DEFAULT_RETENTION, dueDays, LOOK_BACK_DAYS, MIN_TEXT_DAYS } from '../../shared/domain/retention.js';
import { submitMessagesBody, toMessageView } from '../../shared/http/messages.js';
import { applyRetention } from '../../shared/pipeline/applyRetention.js';
import { submitMessages } from '../../shared/pipeline/submitMessages.js';
import { fakeServices, silentLogger, tollFree } from '../support/fakes.js';

const DAY = 86_400_000;

describe('retention days', () => {
  it('are due the day after the retention ends, looking back a month for days a stopped timer left', () => {
    const now = new Date('2026-11-25T03:00:00Z');
    const days = dueDays({ ...DEFAULT_RETENTION, textDays: 45 }, 'text', now);
    expect(days).toHaveLength(LOOK_BACK_DAYS + 1);
    // A record made on 10 October is 45 full days old on 25 November: its text goes now.
    expect(days.at(-1)).toBe('2026-10-10');
    expect(days[0]).toBe('2026-09-10');
  });

  it('a text outlives the longest schedule; records outlive their texts (settings refused otherwise)', () => {
    expect(MIN_TEXT_DAYS).toBe(36);
    const base = {
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      ACS_CONNECTION_STRING: 'endpoint=http://127.0.0.1:1/;accesskey=a2V5',
    };
    const attempt = (env: Record<string, string>) => {
      try {
        loadConfig({
          ...base,
          SMS_SENDERS: '[{"number":"+18005550100","type":"tollFree"}]',
          OUTBOUND_QUEUE_TRANSPORT: 'storage',
          ...env,
        });
        return 'ok';
      } catch (error) {
        return error instanceof ConfigError ? error.message : String(error);
      }
    };
    expect(attempt({ SMS_RETENTION_TEXT_DAYS: '10' })).toContain('SMS_RETENTION_TEXT_DAYS');
    expect(attempt({ SMS_RETENTION_TEXT_DAYS: '90', SMS_RETENTION_RECORD_DAYS: '60' })).toContain(
      'at least SMS_RETENTION_TEXT_DAYS',
    );
    expect(
      attempt({ SMS_RETENTION_TEXT_DAYS: '40', SMS_RETENTION_RECORD_DAYS: '60', SMS_RETENTION_CONVERSATION_DAYS: '7' }),
    ).toBe('ok');
  });
});

describe('the retention timer on fakes', () => {
  it('erases texts after their days (status and metadata stay), then entries, then records; a day is done once', async () => {
    const s = fakeServices({
      config: { senders: [tollFree], retention: { textDays: 40, recordDays: 100, conversationDays: 60 } },
    });
    s.clock.time = Date.parse('2026-01-10T12:00:00Z');
    const deps = depsOf(s);
    const sent = await submitMessages(
      deps.submit(silentLogger),
      submitMessagesBody.parse({ to: '+14255550123', message: 'Your order shipped', metadata: { order: '42' } }),
    );
    if (sent.kind !== 'accepted') throw new Error(sent.kind);
    const id = sent.records[0]!.messageId;
    await s.conversations.recordOutbound([
      {
        ourNumber: tollFree.number,
        theirNumber: '+14255550123',
        direction: 'outbound',
        at: s.clock.now().toISOString(),
        body: 'Your order shipped',
        messageId: id,
      },
    ]);
    const run = () => applyRetention(deps.retention(silentLogger));

    s.clock.time += 40 * DAY; // 40 days on: still kept
    expect((await run()).text.changed).toBe(0);
    expect((await s.messages.get(id))!.body).toBe('Your order shipped');

    s.clock.time += DAY; // 41 days: the text goes
    expect((await run()).text).toMatchObject({ changed: 1 });
    const erased = (await s.messages.get(id))!;
    expect(erased).toMatchObject({
      body: '',
      status: 'queued',
      metadata: { order: '42' },
      textErasedAt: s.clock.now().toISOString(),
    });
    expect(JSON.stringify(toMessageView(erased))).not.toContain('shipped');
    expect((await run()).text).toEqual({ days: 0, changed: 0 }); // done once

    s.clock.time += 20 * DAY; // 61 days: the conversation entry goes
    expect((await run()).conversations.changed).toBe(1);
    expect(s.conversations.entries.size).toBe(0);
    expect(await s.messages.get(id)).toBeDefined();

    s.clock.time += 40 * DAY; // 101 days: the record goes
    expect((await run()).records.changed).toBe(1);
    expect(await s.messages.get(id)).toBeUndefined();
  });
});
